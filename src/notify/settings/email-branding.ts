/**
 * A service's email branding as rendering needs it: the kind the service chose in its settings and, for a logo,
 * the image with its alt text and size. The worker keeps one per service (a logo's bytes are read again only when
 * a new file replaces it); a preview loads its service's on each request. The Government of Canada signature is a
 * built-in logo: the official artwork as PNG (`npm run gc-signature` makes it), read once per process.
 */
import { readFileSync } from 'node:fs';
import type { Db } from '../../platform/database/connection.ts';
import type { HeaderBranding } from '../template-language/index.ts';
import type { InlineImage } from '../delivery/providers/types.ts';
import { findBrandingChoices, findLogos } from '../repositories/email-logos.ts';

/** The image at the top of an email: a service's logo or the Government of Canada signature. */
export interface HeaderImage {
  contentType: 'image/png' | 'image/jpeg';
  bytes: Buffer;
  altEn: string;
  altFr: string;
  /** The size to show it at, at most, in CSS pixels: a logo's own pixels; the header scales it down to fit. */
  width: number;
  height: number;
  /** Content-ID and file name of its inline part in a sent email. */
  contentId: string;
  filename: string;
}

export interface ServiceLogo extends HeaderImage {
  /** When this file was stored: a different one means a new file. */
  storedAt: number;
}

export type ServiceBranding = { kind: 'none' } | { kind: 'gc' } | { kind: 'logo'; logo: ServiceLogo };

export const NO_BRANDING: ServiceBranding = { kind: 'none' };

/**
 * The brandings of `serviceIds` (a service that does not exist is left out). A logo found in `cached` with the
 * same stored time keeps its bytes; only new or replaced files are read. Alt text is always read afresh: it can
 * change without a new file.
 */
export async function loadBrandings(
  db: Db,
  serviceIds: readonly string[],
  cached: (serviceId: string) => ServiceBranding | undefined = () => undefined,
): Promise<Map<string, ServiceBranding>> {
  const result = new Map<string, ServiceBranding>();
  if (serviceIds.length === 0) return result;
  const rows = await findBrandingChoices(db, serviceIds);
  const unread: string[] = [];
  for (const r of rows) {
    if (r.email_branding !== 'logo' || !r.content_type || !r.logo_at) {
      // 'logo' without a stored file cannot happen through the settings page; show no header rather than fail.
      result.set(r.id, r.email_branding === 'gc' ? { kind: 'gc' } : NO_BRANDING);
      continue;
    }
    const storedAt = new Date(r.logo_at).getTime();
    const before = cached(r.id);
    if (before?.kind === 'logo' && before.logo.storedAt === storedAt) {
      result.set(r.id, { kind: 'logo', logo: { ...before.logo, altEn: r.alt_en ?? '', altFr: r.alt_fr ?? '' } });
    } else {
      unread.push(r.id);
    }
  }
  if (unread.length > 0) {
    const logos = await findLogos(db, unread);
    for (const l of logos) {
      const bytes = Buffer.from(l.bytes);
      const size = imageSize(bytes);
      result.set(l.service_id, {
        kind: 'logo',
        logo: {
          contentType: l.content_type,
          bytes,
          altEn: l.alt_en,
          altFr: l.alt_fr,
          width: size?.width ?? 0,
          height: size?.height ?? 0,
          contentId: LOGO_CONTENT_ID,
          filename: l.content_type === 'image/png' ? 'logo.png' : 'logo.jpg',
          storedAt: new Date(l.created_at).getTime(),
        },
      });
    }
  }
  return result;
}

export async function loadBranding(db: Db, serviceId: string): Promise<ServiceBranding> {
  return (await loadBrandings(db, [serviceId])).get(serviceId) ?? NO_BRANDING;
}

/** Content-IDs of the header image's inline part in a sent email: its HTML shows `cid:` + one of these. */
export const LOGO_CONTENT_ID = 'logo@envoi';
export const GC_SIGNATURE_CONTENT_ID = 'gc-signature@envoi';

/**
 * How wide and high the GC signature is shown, in CSS pixels: the artwork's proportions (819 × 78) at about the
 * height GC pages give it. Its PNGs have twice these pixels, for high-density screens.
 */
export const GC_SIGNATURE_DISPLAY = { width: 300, height: 29 } as const;

const gcSignatures = new Map<'en' | 'fr', HeaderImage>();

/** The official GC signature, English first in an English email, French first in a French one. */
export function gcSignature(lang: 'en' | 'fr'): HeaderImage {
  let image = gcSignatures.get(lang);
  if (!image) {
    const filename = `gc-signature-${lang}.png`;
    image = {
      contentType: 'image/png',
      bytes: readFileSync(new URL(`../template-language/assets/${filename}`, import.meta.url)),
      altEn: 'Government of Canada',
      altFr: 'Gouvernement du Canada',
      ...GC_SIGNATURE_DISPLAY,
      contentId: GC_SIGNATURE_CONTENT_ID,
      filename,
    };
    gcSignatures.set(lang, image);
  }
  return image;
}

/** The image a branding puts at the top of an email in `lang`; null for none. */
export function headerImage(branding: ServiceBranding, lang: 'en' | 'fr'): HeaderImage | null {
  if (branding.kind === 'logo') return branding.logo;
  return branding.kind === 'gc' ? gcSignature(lang) : null;
}

/**
 * The header for renderEmailDocument (give both the same `lang`), its image shown from `imageSrc`: `logoCid` when
 * sent, `logoDataUrl` in a preview.
 */
export function emailBranding(
  branding: ServiceBranding,
  imageSrc: (image: HeaderImage) => string,
  lang: 'en' | 'fr' = 'en',
): HeaderBranding {
  const image = headerImage(branding, lang);
  if (!image) return { kind: 'none' };
  return {
    kind: 'logo',
    src: imageSrc(image),
    altEn: image.altEn,
    altFr: image.altFr,
    width: image.width,
    height: image.height,
  };
}

/** The `src` of a header image in a sent email: its inline part. */
export const logoCid = (image: Pick<HeaderImage, 'contentId'>): string => `cid:${image.contentId}`;

/** The parts a sent email in `lang` carries for its header: the image its HTML shows through `logoCid`. */
export function inlineImages(branding: ServiceBranding, lang: 'en' | 'fr' = 'en'): InlineImage[] {
  const image = headerImage(branding, lang);
  if (!image) return [];
  return [
    { contentId: image.contentId, filename: image.filename, contentType: image.contentType, content: image.bytes },
  ];
}

/**
 * The header image inside the page itself. Previews are shown in sandboxed frames, whose requests carry no session
 * cookie, so a URL behind sign-in would not load there; the frames' policy allows `data:` images.
 */
export const logoDataUrl = (image: HeaderImage): string =>
  `data:${image.contentType};base64,${image.bytes.toString('base64')}`;

/**
 * A sent email's HTML as a page shows it when the message's parts were not kept (the outbox): the header image's
 * `cid:` link replaced by the image itself. The GC signature is built in; a logo is the service's current one.
 */
export function showHeaderImage(page: string, branding: ServiceBranding, lang: 'en' | 'fr' = 'en'): string {
  const images = [
    ...(page.includes(logoCid({ contentId: GC_SIGNATURE_CONTENT_ID })) ? [gcSignature(lang)] : []),
    ...(branding.kind === 'logo' ? [branding.logo] : []),
  ];
  return images.reduce(
    (shown, image) => shown.replaceAll(`src="${logoCid(image)}"`, `src="${logoDataUrl(image)}"`),
    page,
  );
}

/** Pixel size of a PNG (IHDR) or JPEG (first SOF segment); null when neither can be read. */
export function imageSize(bytes: Uint8Array): { width: number; height: number } | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length >= 24 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[12] === 0x49 && bytes[15] === 0x52) {
    return { width: view.getUint32(16), height: view.getUint32(20) };
  }
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
  let i = 2;
  while (i + 9 < bytes.length) {
    if (bytes[i] !== 0xff) return null;
    const marker = bytes[i + 1]!;
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9)) {
      i += 2; // a marker without a length
      continue;
    }
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) return { width: view.getUint16(i + 7), height: view.getUint16(i + 5) };
    i += 2 + view.getUint16(i + 2);
  }
  return null;
}
