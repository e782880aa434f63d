/**
 * Sending from the web UI in a real browser, in French: one message to yourself, watched until the sink provider
 * delivers it; a send that trial mode refuses, shown on the form; the same journey with the keyboard alone; a
 * spreadsheet, first with errors shown per row and cell, then a good one sent as a job; an Excel workbook; the
 * choice of reply-to address and text sender when the service has several (and a forged one refused); and every
 * cell problem of a text message list in French. axe checks every page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import ExcelJS from 'exceljs';
import { describeWithBrowser, expectAccessible, launchBrowser, tabTo } from '../support/browser.ts';
import {
  follow,
  GUESTS,
  MEMBER,
  startTemplatesWorld,
  submit,
  words,
  type TemplatesWorld,
} from './templates-support.ts';
import { addSender, type Sender } from '../../src/notify/settings/senders.ts';
import { renderSms } from '../../src/notify/template-language/index.ts';

/** A real .xlsx workbook, written as Excel would, with these rows on its first sheet. */
async function workbook(rows: string[][]): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  const sheet = book.addWorksheet('Liste');
  for (const row of rows) sheet.addRow(row);
  return Buffer.from(await book.xlsx.writeBuffer());
}

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

describeWithBrowser('sending (fr)', () => {
  let browser: Browser;
  let world: TemplatesWorld;
  let page: Page;
  let notificationUrl = '';
  let jobUrl = '';
  const f = (key: string, params?: Record<string, string | number>) => words('fr', key, params);

  beforeAll(async () => {
    browser = await launchBrowser();
    world = await startTemplatesWorld(browser, [
      {
        key: 'notice',
        type: 'email',
        versions: [
          {
            name: 'Avis de rendez-vous',
            subject: 'Votre rendez-vous, ((prénom))',
            content: 'Bonjour ((prénom)),\n\nVotre rendez-vous est le ((date)).',
          },
        ],
      },
      {
        key: 'reminder',
        type: 'sms',
        versions: [{ name: 'Rappel', content: 'Rappel : votre rendez-vous est le ((date)).' }],
      },
    ]);
    page = await world.page('fr-CA');
  });
  afterAll(async () => {
    await browser?.close();
    await world?.envoi.stop();
  });

  const service = () => `${world.envoi.url}/services/${world.serviceId}`;
  const heading = async (p: Page = page) => (await p.locator('h1').innerText()).trim();

  it('sends one message to yourself and shows it reaching “delivered”', async () => {
    await page.goto(`${service()}/templates/${world.templates.notice}`);
    await follow(page, page.getByRole('link', { name: f('templates.show.send') }));
    expect(await heading()).toBe(f('send.one.title', { name: 'Avis de rendez-vous' }));
    await expectAccessible(page);
    expect(await page.isChecked('#to')).toBe(true);
    expect(await page.locator('label[for="to"]').innerText()).toBe(f('send.one.toMe', { recipient: MEMBER.email }));
    // No reply-to address to choose from: no question.
    expect(await page.locator('input[name="sender"]').count()).toBe(0);

    // Each placeholder is required.
    await submit(page);
    expect(await page.locator('.error-summary').innerText()).toContain(
      f('send.error.placeholderMissing', { name: 'prénom' }),
    );
    await expectAccessible(page);

    await page.getByLabel('prénom', { exact: true }).fill('Alex');
    await page.getByLabel('date', { exact: true }).fill('1er juin');
    await submit(page);
    expect(await heading()).toBe(f('send.message.titleEmail', { recipient: MEMBER.email }));
    expect(await page.locator('.notice.success').innerText()).toContain(f('send.notice.sent'));
    // The page follows the message by itself (template-editor.js) until the sink provider has delivered it.
    await expect
      .poll(() => page.locator('#message-status').innerText(), { timeout: 20_000 })
      .toBe(f('send.status.delivered'));
    expect(await page.locator('.timeline').innerText()).toContain('livré');
    notificationUrl = page.url().replace(/\?.*$/, '');
    expect(await page.locator('.summary-list').first().innerText()).toContain(MEMBER.name);
    expect(await page.frameLocator('iframe.email-frame').locator('body').innerText()).toContain(
      'Votre rendez-vous est le 1er juin.',
    );
    await expectAccessible(page);

    // Envoi's own record: sent by the person, with no API key.
    const row = await world.envoi.database.db
      .selectFrom('notifications')
      .select(['api_key_id', 'created_by_id', 'status'])
      .where('service_id', '=', world.serviceId)
      .executeTakeFirstOrThrow();
    expect(row.api_key_id).toBeNull();
    expect(row.created_by_id).not.toBeNull();
  });

  it('shows a send refused in trial mode as an error on the form', async () => {
    await page.goto(`${service()}/send/${world.templates.notice}`);
    await page.check('#to-other');
    await page.fill('#recipient', 'quelquun@exemple.ca');
    await page.getByLabel('prénom', { exact: true }).fill('Sam');
    await page.getByLabel('date', { exact: true }).fill('2 juin');
    await submit(page);
    expect(await heading()).toBe(f('send.one.title', { name: 'Avis de rendez-vous' }));
    expect(await page.locator('.error-summary a[href="#recipient"]').innerText()).toBe(f('send.error.trialMode'));
    expect(await page.locator('#recipient-error').innerText()).toBe(f('send.error.trialMode'));
    await expectAccessible(page);

    // A guest list address is allowed.
    await page.fill('#recipient', GUESTS[0]!);
    await submit(page);
    expect(await heading()).toBe(f('send.message.titleEmail', { recipient: GUESTS[0]! }));
  });

  it('can be completed with the keyboard alone (Tab and Enter)', async () => {
    const keyboard = await world.page('fr-CA');
    await keyboard.goto(`${service()}/templates/${world.templates.notice}`);
    await tabTo(keyboard, `a[href$="/send/${world.templates.notice}"]`);
    await Promise.all([keyboard.waitForNavigation(), keyboard.keyboard.press('Enter')]);
    expect(await heading(keyboard)).toBe(f('send.one.title', { name: 'Avis de rendez-vous' }));
    await tabTo(keyboard, '#placeholder-1');
    await keyboard.keyboard.type('Dominique');
    await keyboard.keyboard.press('Tab');
    expect(await keyboard.evaluate(() => document.activeElement?.id)).toBe('placeholder-2');
    await keyboard.keyboard.type('3 juin');
    await tabTo(keyboard, '#send-button');
    await Promise.all([keyboard.waitForNavigation(), keyboard.keyboard.press('Enter')]);
    expect(await heading(keyboard)).toBe(f('send.message.titleEmail', { recipient: MEMBER.email }));
    await expectAccessible(keyboard);
    await keyboard.context().close();
  });

  it('checks a spreadsheet: errors shown per row and cell, then a good one is sent as a job', async () => {
    await page.goto(`${service()}/templates/${world.templates.notice}`);
    await follow(page, page.getByRole('link', { name: f('templates.show.upload') }));
    expect(await heading()).toBe(f('send.upload.title', { name: 'Avis de rendez-vous' }));
    await expectAccessible(page);

    // Nothing chosen: the form says so.
    await submit(page);
    expect(await page.locator('#file-error').innerText()).toBe(f('send.upload.fileMissing'));

    const bad = [
      'adresse courriel,prénom,date',
      `${GUESTS[0]},Ana,1er juin`,
      'pas-une-adresse,Bo,2 juin',
      `${GUESTS[1]},,3 juin`,
    ].join('\n');
    await page.setInputFiles('#file', { name: 'liste.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
    await submit(page);
    expect(await heading()).toBe(f('send.check.title', { file: 'liste.csv' }));
    expect(await page.locator('.error-summary').innerText()).toContain(f('send.problem.rowErrors.other', { count: 2 }));
    const rows = await page.locator('table.row-errors tbody tr').allInnerTexts();
    expect(rows.map((r) => r.split('\t').map((c) => c.trim()))).toEqual([
      ['2', 'adresse courriel', f('send.cell.invalidEmail')],
      ['3', 'prénom', f('send.cell.missing')],
    ]);
    await expectAccessible(page);

    const good = ['adresse courriel,prénom,date', `${GUESTS[0]},Ana,1er juin`, `${GUESTS[1]},Bo,2 juin`].join('\n');
    await page.setInputFiles('#file', { name: 'liste-corrigée.csv', mimeType: 'text/csv', buffer: Buffer.from(good) });
    await submit(page);
    expect(await page.locator('.notice.success').first().innerText()).toContain(
      f('send.check.ready.other', { count: 2, template: 'Avis de rendez-vous' }),
    );
    const preview = await page.locator('table.preview-rows tbody tr').allInnerTexts();
    expect(preview).toHaveLength(2);
    expect(preview[0]).toContain('Votre rendez-vous, Ana');
    expect(preview[1]).toContain('Votre rendez-vous est le 2 juin.');
    await expectAccessible(page);

    expect(await page.isChecked('#when')).toBe(true); // now
    await submit(page);
    expect(await heading()).toBe(f('send.job.title', { file: 'liste-corrigée.csv' }));
    expect(await page.locator('.notice.success').innerText()).toContain(f('send.notice.started'));
    jobUrl = page.url().replace(/\?.*$/, '');
    await expectAccessible(page);
    // Rows: in the file, waiting, sending, delivered, not delivered.
    const delivered = page.locator('table.job-counts tbody tr').nth(3);
    expect(await delivered.locator('th').innerText()).toBe(f('send.job.count.delivered'));
    await expect.poll(() => delivered.locator('td').innerText(), { timeout: 20_000 }).toBe('2');
    expect(await page.locator('.summary-list').innerText()).toContain(MEMBER.name);
  });

  /** Uploads a one-row list and schedules it for later; the page is then the job's. */
  async function scheduleList(file: string): Promise<void> {
    await page.goto(`${service()}/send/${world.templates.notice}/upload`);
    const list = ['adresse courriel,prénom,date', `${GUESTS[0]},Ana,1er juin`].join('\n');
    await page.setInputFiles('#file', { name: file, mimeType: 'text/csv', buffer: Buffer.from(list) });
    await submit(page);
    await page.check('#when-later');
    await page.selectOption('#at', { index: 2 });
    await submit(page);
  }

  it('schedules a spreadsheet for later, and cancels it', async () => {
    await scheduleList('plus-tard.csv');
    expect(await page.locator('.notice.success').innerText()).toContain(f('send.notice.scheduled'));
    expect(await page.locator('#job-status').innerText()).toBe(f('send.job.status.scheduled'));
    await submit(page, 'main form[action$="/cancel"] button');
    expect(await page.locator('.notice.success').innerText()).toContain(f('send.notice.cancelled'));
    expect(await page.locator('#job-status').innerText()).toBe(f('send.job.status.cancelled'));
    await expectAccessible(page);
  });

  it('says plainly when a spreadsheet could not be sent at all, and links to uploading it again', async () => {
    await scheduleList('en-échec.csv');
    // What the job engine does once every attempt has failed (test/jobs/failing-job.test.ts makes it fail for real).
    const jobId = new URL(page.url()).pathname.split('/').at(-1)!;
    await world.envoi.database.db
      .updateTable('jobs')
      .set({ job_status: 'error', processing_finished: new Date(), claimed_until: null })
      .where('id', '=', jobId)
      .execute();
    await page.reload();
    expect(await page.locator('#job-status').innerText()).toBe(f('send.job.status.error'));
    expect(await page.locator('#job-error').innerText()).toBe(f('send.job.error.body'));
    await expectAccessible(page);
    await page.getByRole('link', { name: f('send.job.error.uploadAgain') }).click();
    expect(await heading()).toBe(f('send.upload.title', { name: 'Avis de rendez-vous' }));
  });

  it('shows the sending pages in English too', async () => {
    const en = await world.page('en-CA');
    const e = (key: string, params?: Record<string, string | number>) => words('en', key, params);
    await en.goto(`${service()}/send/${world.templates.notice}`);
    expect(await heading(en)).toBe(e('send.one.title', { name: 'Avis de rendez-vous' }));
    await expectAccessible(en);
    await en.goto(notificationUrl);
    expect(await en.locator('#message-status').innerText()).toBe(e('send.status.delivered'));
    await expectAccessible(en);
    await en.goto(`${service()}/send/${world.templates.notice}/upload`);
    expect(await heading(en)).toBe(e('send.upload.title', { name: 'Avis de rendez-vous' }));
    await expectAccessible(en);
    await en.goto(jobUrl);
    expect(await heading(en)).toBe(e('send.job.title', { file: 'liste-corrigée.csv' }));
    await expectAccessible(en);
    await en.context().close();
  });
  describe('with several reply-to addresses and text senders', () => {
    const replyTo: Record<string, Sender> = {};
    const smsSender: Record<string, Sender> = {};
    const db = () => world.envoi.database.db;

    beforeAll(async () => {
      const region = world.envoi.config.phoneRegion;
      replyTo.main = await addSender(db(), 'email_reply_to', world.serviceId, {
        value: 'info@exemple.gc.ca',
        makeDefault: true,
        phoneRegion: region,
      });
      replyTo.rdv = await addSender(db(), 'email_reply_to', world.serviceId, {
        value: 'rendez-vous@exemple.gc.ca',
        makeDefault: false,
        phoneRegion: region,
      });
      smsSender.main = await addSender(db(), 'sms_senders', world.serviceId, {
        value: 'GOVCANADA',
        makeDefault: true,
        phoneRegion: region,
      });
      smsSender.other = await addSender(db(), 'sms_senders', world.serviceId, {
        value: 'PRESTATIONS',
        makeDefault: false,
        phoneRegion: region,
      });
      // A number the trial service may text.
      await db()
        .insertInto('guest_list')
        .values({ service_id: world.serviceId, recipient_type: 'sms', recipient: '+16135550142' })
        .execute();
      // As the settings pages do after a change: the API's sender look-up must see the new ones at once.
      world.envoi.services.directory.invalidate(world.serviceId);
    });

    const fillNotice = async (p: Page) => {
      await p.getByLabel('prénom', { exact: true }).fill('Alex');
      await p.getByLabel('date', { exact: true }).fill('4 juin');
    };

    it('asks which reply-to address, the default chosen, and the message carries the one chosen', async () => {
      await page.goto(`${service()}/send/${world.templates.notice}`);
      expect(await page.locator('fieldset:has(input[name="sender"]) legend').innerText()).toBe(
        f('send.sender.legend.email'),
      );
      expect(await page.locator('label[for="sender"]').innerText()).toBe(
        f('send.sender.default', { sender: 'info@exemple.gc.ca' }),
      );
      expect(await page.isChecked('#sender')).toBe(true);
      await expectAccessible(page);

      await page.check(`#sender-${replyTo.rdv!.id}`);
      await fillNotice(page);
      await submit(page);
      expect(await heading()).toBe(f('send.message.titleEmail', { recipient: MEMBER.email }));
      const id = new URL(page.url()).pathname.split('/').at(-1)!;
      const row = await db()
        .selectFrom('notifications')
        .select('reply_to_text')
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      expect(row.reply_to_text).toBe('rendez-vous@exemple.gc.ca');
      // The message's page says where replies go.
      expect(await page.locator(`dt:text-is("${f('send.message.replyTo')}") + dd`).innerText()).toBe(
        'rendez-vous@exemple.gc.ca',
      );
    });

    it('refuses a reply-to address that is not the service’s with an error on the form, never a 500', async () => {
      for (const forged of ['6f1c1a52-0000-4000-8000-000000000000', 'pas-un-identifiant']) {
        await page.goto(`${service()}/send/${world.templates.notice}`);
        await page.locator('#sender').evaluate((input, value) => ((input as HTMLInputElement).value = value), forged);
        await fillNotice(page);
        const [response] = await Promise.all([page.waitForNavigation(), page.locator('#send-button').click()]);
        expect(response?.status()).toBe(400);
        expect(await page.locator('.error-summary a[href="#sender"]').innerText()).toBe(f('send.sender.unknown.email'));
        expect(await page.locator('#sender-error').innerText()).toBe(f('send.sender.unknown.email'));
        // What was typed is kept, and the default is offered again.
        expect(await page.getByLabel('prénom', { exact: true }).inputValue()).toBe('Alex');
        expect(await page.isChecked('#sender')).toBe(true);
      }
      await expectAccessible(page);
    });

    it('asks which text message sender, and the message comes from the one chosen', async () => {
      await page.goto(`${service()}/send/${world.templates.reminder}`);
      expect(await page.locator('fieldset:has(input[name="sender"]) legend').innerText()).toBe(
        f('send.sender.legend.sms'),
      );
      expect(await page.isChecked('#sender')).toBe(true);
      await expectAccessible(page);
      await page.fill('#recipient', '613-555-0142');
      await page.check(`#sender-${smsSender.other!.id}`);
      await page.getByLabel('date', { exact: true }).fill('5 juin');
      await submit(page);
      expect(await heading()).toBe(f('send.message.titleSms', { recipient: '613-555-0142' }));
      expect(await page.locator('.phone-sender').innerText()).toBe('PRESTATIONS');
      await expectAccessible(page);
      const id = new URL(page.url()).pathname.split('/').at(-1)!;
      const row = await db()
        .selectFrom('notifications')
        .select('reply_to_text')
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      expect(row.reply_to_text).toBe('PRESTATIONS');
    });

    it('sends a real Excel workbook as a job, every row with the reply-to address chosen', async () => {
      await page.goto(`${service()}/send/${world.templates.notice}/upload`);
      const rows = [
        ['adresse courriel', 'prénom', 'date'],
        [GUESTS[0]!, 'Ana', '1er juillet'],
        [GUESTS[1]!, 'Bo', '2 juillet'],
        [MEMBER.email, 'Cy', '3 juillet'],
      ];
      await page.setInputFiles('#file', {
        name: 'invitations.xlsx',
        mimeType: XLSX_TYPE,
        buffer: await workbook(rows),
      });
      await submit(page);
      expect(await heading()).toBe(f('send.check.title', { file: 'invitations.xlsx' }));
      expect(await page.locator('.notice.success').first().innerText()).toContain(
        f('send.check.ready.other', { count: 3, template: 'Avis de rendez-vous' }),
      );
      const preview = (await page.locator('table.preview-rows tbody tr').allInnerTexts()).map((r) =>
        r.split('\t').map((c) => c.trim()),
      );
      expect(preview.map((r) => r.slice(0, 4))).toEqual([
        ['1', GUESTS[0], 'Ana', '1er juillet'],
        ['2', GUESTS[1], 'Bo', '2 juillet'],
        ['3', MEMBER.email, 'Cy', '3 juillet'],
      ]);
      expect(preview[1]![4]).toContain('Votre rendez-vous, Bo');
      expect(await page.isChecked('#sender')).toBe(true);
      await expectAccessible(page);

      // A forged reply-to address: the check page says so, and nothing is sent.
      await page
        .locator('#sender')
        .evaluate((input) => ((input as HTMLInputElement).value = '6f1c1a52-0000-4000-8000-000000000000'));
      await submit(page, '#start-button');
      expect(await page.locator('.error-summary a[href="#sender"]').innerText()).toBe(f('send.sender.unknown.email'));
      expect(
        await db().selectFrom('jobs').select('id').where('original_file_name', '=', 'invitations.xlsx').execute(),
      ).toEqual([]);
      await expectAccessible(page);

      await page.check(`#sender-${replyTo.rdv!.id}`);
      await submit(page, '#start-button');
      expect(await heading()).toBe(f('send.job.title', { file: 'invitations.xlsx' }));
      const delivered = page.locator('table.job-counts tbody tr').nth(3);
      await expect
        .poll(
          async () => {
            await page.reload();
            return delivered.locator('td').innerText();
          },
          { timeout: 20_000 },
        )
        .toBe('3');
      await expectAccessible(page);

      const jobId = new URL(page.url()).pathname.split('/').at(-1)!;
      const job = await db()
        .selectFrom('jobs')
        .select(['sender_id', 'reply_to_text'])
        .where('id', '=', jobId)
        .executeTakeFirstOrThrow();
      expect(job).toEqual({ sender_id: replyTo.rdv!.id, reply_to_text: 'rendez-vous@exemple.gc.ca' });
      const sent = await db()
        .selectFrom('notifications')
        .select(['to', 'reply_to_text'])
        .where('job_id', '=', jobId)
        .orderBy('job_row_number')
        .execute();
      expect(sent).toEqual(
        [GUESTS[0], GUESTS[1], MEMBER.email].map((to) => ({ to, reply_to_text: 'rendez-vous@exemple.gc.ca' })),
      );
    });
  });

  it('shows every cell problem of a text message list in French', async () => {
    const long = 'y'.repeat(700);
    const rows = [
      ['numéro de téléphone', 'date'],
      ['613 253', 'lundi'],
      ['613-ABC-2222', 'lundi'],
      ['+1 613 253 2222 0', 'lundi'],
      ['+44 7911 123456', 'lundi'],
      ['911', 'lundi'],
      ['613 253 2222', long],
      ['613 253 2223', ''],
    ];
    await page.goto(`${service()}/send/${world.templates.reminder}/upload`);
    await page.setInputFiles('#file', { name: 'rappels.xlsx', mimeType: XLSX_TYPE, buffer: await workbook(rows) });
    await submit(page);
    expect(await heading()).toBe(f('send.check.title', { file: 'rappels.xlsx' }));
    const count = renderSms('Rappel : votre rendez-vous est le ((date)).', { date: long }).characterCount;
    const table = await page.locator('table.row-errors tbody tr').allInnerTexts();
    expect(table.map((r) => r.split('\t').map((c) => c.trim()))).toEqual([
      ['1', 'numéro de téléphone', f('send.cell.phone.tooShort')],
      ['2', 'numéro de téléphone', f('send.cell.phone.badCharacter')],
      ['3', 'numéro de téléphone', f('send.cell.phone.tooLong')],
      ['4', 'numéro de téléphone', f('send.cell.international')],
      ['5', 'numéro de téléphone', f('send.cell.phone.emergency')],
      ['6', f('send.check.wholeMessage'), f('send.cell.smsTooLong', { count, limit: 612 })],
      ['7', 'date', f('send.cell.missing')],
    ]);
    // None of the engine's English words reach the French page.
    const text = await page.locator('main').innerText();
    for (const english of [
      'Not enough digits',
      'Must not contain',
      'Too many digits',
      'international',
      'emergency',
      'Message is too long',
      'Missing',
    ]) {
      expect(text).not.toContain(english);
    }
    await expectAccessible(page);
  });
});
