/**
 * Choosing the branding of a service's emails in its settings: none, the Government of Canada signature, or an
 * uploaded logo (PNG or JPEG) with alt text in both languages. How rendering reads it is email-branding.ts.
 */
import type { Db } from '../../platform/database/connection.ts';
import type { EmailBranding } from '../vocabulary.ts';
import { updateService } from '../../platform/repositories/services.ts';
import { findLogo, hasLogo, saveLogo, updateLogoAltText } from '../repositories/email-logos.ts';
import type { SettingsErrorCode } from './settings-error.ts';

export const LOGO_MAX_BYTES = 500 * 1024;
const ALT_TEXT_MAX = 255;

export interface LogoUpload {
  bytes: Uint8Array;
}

/** PNG or JPEG, told by their first bytes (never by the name or type the browser claims). */
export function imageType(bytes: Uint8Array): 'image/png' | 'image/jpeg' | null {
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= 8 && png.every((b, i) => bytes[i] === b)) return 'image/png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  return null;
}

/**
 * Sets the branding of the service's emails. A logo needs alt text in both languages; a new file replaces the
 * stored one, and choosing 'logo' without a file keeps the stored one (there must be one).
 */
export async function setBranding(
  db: Db,
  serviceId: string,
  input: { branding: EmailBranding; logo: LogoUpload | null; altEn: string; altFr: string },
): Promise<void> {
  if (input.branding !== 'logo') {
    await updateService(db, serviceId, { email_branding: input.branding });
    return;
  }
  const problems = logoProblems(input);
  const stored = await hasLogo(db, serviceId);
  if (!input.logo && !stored) problems.unshift('logo-missing');
  if (problems.length) throw new BrandingError(problems);
  const altEn = input.altEn.trim();
  const altFr = input.altFr.trim();
  await db.transaction().execute(async (trx) => {
    if (input.logo) {
      await saveLogo(trx, serviceId, {
        content_type: imageType(input.logo.bytes)!,
        bytes: input.logo.bytes,
        alt_en: altEn,
        alt_fr: altFr,
        created_at: new Date(),
      });
    } else {
      await updateLogoAltText(trx, serviceId, altEn, altFr);
    }
    await updateService(trx, serviceId, { email_branding: 'logo' });
  });
}

/** Every problem of a logo form at once, so the page can show them all. */
export class BrandingError extends Error {
  constructor(readonly codes: SettingsErrorCode[]) {
    super(codes.join(', '));
    this.name = 'BrandingError';
  }
}

function logoProblems(input: { logo: LogoUpload | null; altEn: string; altFr: string }): SettingsErrorCode[] {
  const problems: SettingsErrorCode[] = [];
  if (input.logo) {
    if (input.logo.bytes.length > LOGO_MAX_BYTES) problems.push('logo-too-big');
    else if (!imageType(input.logo.bytes)) problems.push('logo-type');
  }
  if (!input.altEn.trim()) problems.push('alt-en-missing');
  if (!input.altFr.trim()) problems.push('alt-fr-missing');
  if (input.altEn.trim().length > ALT_TEXT_MAX || input.altFr.trim().length > ALT_TEXT_MAX)
    problems.push('alt-too-long');
  return problems;
}

export async function emailLogo(db: Db, serviceId: string): Promise<{ contentType: string; bytes: Uint8Array } | null> {
  const row = await findLogo(db, serviceId);
  return row ? { contentType: row.content_type, bytes: row.bytes } : null;
}
