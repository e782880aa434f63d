/**
 * A service's email branding in what it sends and in what its team sees. Sent: through the worker to a real SMTP
 * server and to the SES peer, parsed with mailparser: the HTML shows the logo as cid:…, and the inline part with
 * that Content-ID holds the stored file; the GC signature likewise, from the committed PNG. Seen: the template
 * preview, the message page and the outbox show the same header in their sandboxed frames, the image really loaded.
 */
import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { simpleParser, type ParsedMail } from 'mailparser';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startWorker, type Worker } from '../../src/notify/delivery/worker.ts';
import { setBranding } from '../../src/notify/settings/branding.ts';
import {
  imageSize,
  loadBrandings,
  showHeaderImage,
  type ServiceBranding,
} from '../../src/notify/settings/email-branding.ts';
import { emailPlainText } from '../../src/notify/template-language/index.ts';
import type { Db } from '../../src/platform/database/connection.ts';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';
import { awsPeerEnv, startAwsPeer, type AwsPeer } from '../support/aws-peer.ts';
import { describeWithBrowser, expectAccessible, launchBrowser } from '../support/browser.ts';
import { startEnvoi, type RunningEnvoi } from '../support/envoi.ts';
import { NotifyClient } from '../api/helpers.ts';
import { serviceFile, signedInPage, TEAM_EMAIL } from '../admin/activity-support.ts';
import {
  createService,
  createTemplate,
  insertNotification,
  startSmtpPeer,
  testConfig,
  waitFor,
  waitForStatus,
  type SmtpPeer,
  type TemplateRef,
} from './fixtures.ts';

/** A solid-colour RGB PNG of the given size: real image bytes whose size the test knows. */
function png(width: number, height: number, rgb: [number, number, number]): Buffer {
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(width * 3).map((_, i) => rgb[i % 3]!)]);
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(Array.from({ length: height }, () => row)))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const LOGO = png(480, 120, [38, 55, 74]);
const GC_SIGNATURE = {
  en: readFileSync(new URL('../../src/notify/template-language/assets/gc-signature-en.png', import.meta.url)),
  fr: readFileSync(new URL('../../src/notify/template-language/assets/gc-signature-fr.png', import.meta.url)),
};
const ALT = { altEn: 'Passport Program', altFr: 'Programme de passeport' };
const BODY = 'Hello Alice,\n\nYour passport is **ready**.';

/** `bytes` null keeps the stored file and changes only the alt text, as the settings page does without a file. */
const useLogo = (db: Db, serviceId: string, bytes: Buffer | null = LOGO, alt = ALT) =>
  setBranding(db, serviceId, { branding: 'logo', logo: bytes && { bytes }, ...alt });
const useKind = (db: Db, serviceId: string, branding: 'gc' | 'none') =>
  setBranding(db, serviceId, { branding, logo: null, altEn: '', altFr: '' });

/** As sent: mailparser would otherwise turn cid: links into data: URLs. */
const parse = (raw: string): Promise<ParsedMail> => simpleParser(raw, { skipImageLinks: true });

/** The src of the header's image, if any. */
function logoSrc(html: string): string | null {
  return html.match(/<img [^>]*src="([^"]*)"/)?.[1] ?? null;
}

describe('branding in sent email', () => {
  let tdb: TestDatabase;
  let serviceId: string;
  let template: TemplateRef;
  let relay: SmtpPeer;
  let aws: AwsPeer;
  const workers: Worker[] = [];

  beforeAll(async () => {
    tdb = await openTestDatabase();
    serviceId = await createService(tdb.db, { name: 'Passport Program', localPart: 'passports' });
    template = await createTemplate(tdb.db, serviceId, {
      type: 'email',
      subject: 'Your passport',
      content: 'Hello ((name)),\n\nYour passport is **ready**.',
    });
    relay = await startSmtpPeer();
    aws = await startAwsPeer();
  });

  afterEach(async () => {
    // A new worker for each case: the worker keeps a service's branding for a minute.
    for (const w of workers.splice(0)) await w.stop();
    relay.received.length = 0;
    aws.requests.length = 0;
  });

  afterAll(async () => {
    await relay?.close();
    await aws?.close();
    await tdb?.close();
  });

  async function send(env: Record<string, string>): Promise<string> {
    const id = await insertNotification(tdb.db, {
      serviceId,
      template,
      type: 'email',
      to: 'alice@example.com',
      subject: 'Your passport',
      body: BODY,
      personalisation: { name: 'Alice' },
    });
    const worker = startWorker({ db: tdb.db, config: testConfig(env), retryDelayMs: () => 0 });
    workers.push(worker);
    await worker.drain();
    return id;
  }

  async function sendBySmtp(): Promise<ParsedMail> {
    const id = await send({ EMAIL_PROVIDER: 'smtp', SMTP_URL: relay.url });
    await waitForStatus(tdb.db, id, 'delivered');
    expect(relay.received).toHaveLength(1);
    return parse(relay.received[0]!.raw);
  }

  it('sends the logo as an inline part that the HTML shows through its Content-ID', async () => {
    await useLogo(tdb.db, serviceId);
    const mail = await sendBySmtp();
    const src = logoSrc(mail.html || '');
    expect(src).toMatch(/^cid:./);
    expect(mail.attachments).toHaveLength(1);
    const part = mail.attachments[0]!;
    expect(part.cid).toBe(src!.slice('cid:'.length));
    expect(part.contentDisposition).toBe('inline');
    expect(part.contentType).toBe('image/png');
    expect(part.related).toBe(true);
    expect(Buffer.compare(part.content, LOGO)).toBe(0);
    expect(mail.html).toContain('alt="Passport Program / Programme de passeport"');
    expect(mail.html).toMatch(/<img [^>]*width="300" height="75"/);
    // The text part is what it was without branding.
    expect(mail.text?.trim()).toBe(emailPlainText(BODY));
  });

  it('sends the Government of Canada signature as an inline PNG part of its own, English first', async () => {
    await useKind(tdb.db, serviceId, 'gc');
    const mail = await sendBySmtp();
    expect(logoSrc(mail.html || '')).toBe('cid:gc-signature@envoi');
    expect(mail.attachments).toHaveLength(1);
    const part = mail.attachments[0]!;
    expect(part.cid).toBe('gc-signature@envoi');
    expect(part.contentDisposition).toBe('inline');
    expect(part.contentType).toBe('image/png');
    expect(part.related).toBe(true);
    expect(Buffer.compare(part.content, GC_SIGNATURE.en)).toBe(0);
    expect(mail.html).toContain('alt="Government of Canada / Gouvernement du Canada"');
    expect(mail.html).toMatch(/<img [^>]*width="300" height="29"/);
    expect(mail.text?.trim()).toBe(emailPlainText(BODY));
  });

  it('sends no header and no part without branding', async () => {
    await useKind(tdb.db, serviceId, 'none');
    const mail = await sendBySmtp();
    expect(mail.attachments).toHaveLength(0);
    expect(logoSrc(mail.html || '')).toBeNull();
    expect(mail.html).not.toContain('Government');
    expect(mail.text?.trim()).toBe(emailPlainText(BODY));
  });

  it('gives SES the same MIME message, logo part included', async () => {
    await useLogo(tdb.db, serviceId);
    const id = await send({
      EMAIL_PROVIDER: 'ses',
      ...awsPeerEnv(aws),
    });
    await waitForStatus(tdb.db, id, 'sending');
    expect(aws.requests).toHaveLength(1);
    const mail = await parse(aws.requests[0]!.raw!);
    const part = mail.attachments[0]!;
    expect(`cid:${part.cid}`).toBe(logoSrc(mail.html || ''));
    expect(Buffer.compare(part.content, LOGO)).toBe(0);
  });

  it('reads a logo file once, and again only when a new file replaces it', async () => {
    await useLogo(tdb.db, serviceId);
    const first = (await loadBrandings(tdb.db, [serviceId])).get(serviceId)!;
    expect(first.kind).toBe('logo');
    const logo = (b: ServiceBranding | undefined) => (b?.kind === 'logo' ? b.logo : null);
    expect([logo(first)?.width, logo(first)?.height]).toEqual([480, 120]);

    // New alt text, same file: the bytes in hand are kept, the text is the new one.
    await useLogo(tdb.db, serviceId, null, { altEn: 'Passports', altFr: 'Passeports' });
    const second = (await loadBrandings(tdb.db, [serviceId], () => first)).get(serviceId);
    expect(logo(second)?.bytes).toBe(logo(first)?.bytes);
    expect(logo(second)?.altEn).toBe('Passports');

    await new Promise((resolve) => setTimeout(resolve, 5)); // a different stored time
    const replacement = png(100, 100, [200, 0, 0]);
    await useLogo(tdb.db, serviceId, replacement);
    const third = (await loadBrandings(tdb.db, [serviceId], () => second)).get(serviceId);
    expect(Buffer.compare(logo(third)!.bytes, replacement)).toBe(0);
    expect([logo(third)?.width, logo(third)?.height]).toEqual([100, 100]);
  });
});

describe('showHeaderImage', () => {
  const sent = (src: string) => `<p>before</p><img src="${src}" alt="x"><p>after</p>`;
  const gc: ServiceBranding = { kind: 'gc' };

  it('shows a kept email’s header image from the branding, for a message whose parts were not kept', () => {
    const shown = showHeaderImage(sent('cid:gc-signature@envoi'), gc);
    expect(shown).toBe(sent(`data:image/png;base64,${GC_SIGNATURE.en.toString('base64')}`));
    expect(showHeaderImage(sent('cid:gc-signature@envoi'), gc, 'fr')).toContain(GC_SIGNATURE.fr.toString('base64'));
  });

  it('shows the signature of an email sent with it after the service has changed its branding', () => {
    expect(showHeaderImage(sent('cid:gc-signature@envoi'), { kind: 'none' })).toBe(
      sent(`data:image/png;base64,${GC_SIGNATURE.en.toString('base64')}`),
    );
  });

  it('leaves other images as they are, and a logo the service no longer uses', () => {
    expect(showHeaderImage(sent('cid:logo@envoi'), gc)).toBe(sent('cid:logo@envoi'));
    expect(showHeaderImage(sent('https://example.gc.ca/a.png'), gc)).toBe(sent('https://example.gc.ca/a.png'));
  });
});

describe('imageSize', () => {
  it('reads a PNG’s size from its header', () => {
    expect(imageSize(png(7, 3, [0, 0, 0]))).toEqual({ width: 7, height: 3 });
  });

  it('reads a JPEG’s size from its frame header, past the segments before it', () => {
    const jpeg = Buffer.from([
      0xff,
      0xd8, // start of image
      0xff,
      0xe0,
      0x00,
      0x10,
      0x4a,
      0x46,
      0x49,
      0x46,
      0x00,
      0x01,
      0x01,
      0x00,
      0x00,
      0x01,
      0x00,
      0x01,
      0x00,
      0x00, // APP0
      0xff,
      0xc4,
      0x00,
      0x04,
      0x00,
      0x00, // a Huffman table (C4 is not a frame)
      0xff,
      0xc0,
      0x00,
      0x11,
      0x08,
      0x00,
      0x3c,
      0x01,
      0xe0,
      0x03,
      0x01,
      0x22,
      0x00,
      0x02,
      0x11,
      0x01,
      0x03,
      0x11,
      0x01, // SOF0: 60 × 480
    ]);
    expect(imageSize(jpeg)).toEqual({ width: 480, height: 60 });
  });

  it('answers null for anything else', () => {
    expect(imageSize(Buffer.from('GIF89a...'))).toBeNull();
    expect(imageSize(Buffer.from([0xff, 0xd8, 0xff]))).toBeNull();
  });
});

describeWithBrowser('branding in previews', () => {
  let envoi: RunningEnvoi;
  let browser: Browser;
  let serviceId: string;
  let templateId: string;
  let notificationId: string;

  beforeAll(async () => {
    envoi = await startEnvoi({ worker: true, bootstrap: serviceFile() });
    browser = await launchBrowser();
    const service = envoi.provisioned.services[0]!;
    serviceId = service.id;
    templateId = service.templates.email!;
    await useLogo(envoi.database.db, serviceId);
    const client = new NotifyClient(envoi.url, service.api_keys['bootstrap live']!);
    const response = await client.sendEmail(templateId, TEAM_EMAIL, { personalisation: { name: 'Pat' } });
    notificationId = (response as unknown as { data: { id: string } }).data.id;
    await waitFor(
      async () => (await envoi.database.db.selectFrom('outbox').select('id').execute()).length === 1,
      'the email to reach the outbox',
    );
  });

  afterAll(async () => {
    await browser?.close();
    await envoi?.stop();
  });

  /** The header image in the page's email frame, once it has loaded (or failed to). */
  async function frameLogo(page: import('playwright-core').Page) {
    const frame = page.frameLocator('iframe.email-frame');
    await expect.poll(async () => frame.locator('body').innerText(), { timeout: 10_000 }).toContain('Hello Pat');
    const img = frame.locator('img');
    await expect.poll(async () => img.evaluate((el: HTMLImageElement) => el.complete), { timeout: 10_000 }).toBe(true);
    return {
      alt: await img.getAttribute('alt'),
      loaded: await img.evaluate((el: HTMLImageElement) => [el.naturalWidth, el.naturalHeight]),
      shown: await img.evaluate((el: HTMLImageElement) => [el.width, el.height]),
    };
  }

  it('shows the logo, really loaded, in the template preview, the message page and the outbox', async () => {
    const page = await signedInPage(envoi, browser, { serviceId, email: 'viewer@tbs-sct.gc.ca', locale: 'en-CA' });
    for (const path of [`/templates/${templateId}/preview?p.name=Pat`, `/notifications/${notificationId}`, '/outbox']) {
      await page.goto(`${envoi.url}/services/${serviceId}${path}`);
      await expectAccessible(page);
      expect(await frameLogo(page), path).toEqual({
        alt: 'Passport Program / Programme de passeport',
        loaded: [480, 120],
        shown: [300, 75],
      });
    }
    await page.context().close();
  });

  // The outbox's swap of the signature's cid: link is checked in showHeaderImage's tests above.
  it('shows the Government of Canada signature, really loaded, in the template preview and the message page', async () => {
    await useKind(envoi.database.db, serviceId, 'gc');
    const page = await signedInPage(envoi, browser, { serviceId, email: 'viewer@tbs-sct.gc.ca', locale: 'fr-CA' });
    for (const path of [`/templates/${templateId}/preview?p.name=Pat`, `/notifications/${notificationId}`]) {
      await page.goto(`${envoi.url}/services/${serviceId}${path}`);
      await expectAccessible(page);
      // The email is English: its signature is the English-first one, whatever the reader's language.
      expect(await frameLogo(page), path).toEqual({
        alt: 'Government of Canada / Gouvernement du Canada',
        loaded: [600, 58],
        shown: [300, 29],
      });
    }
    await page.context().close();
  });
});
