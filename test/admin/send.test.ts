/**
 * Sending from the web UI in a real browser, in French: one message to yourself, watched until the sink provider
 * delivers it; a send that trial mode refuses, shown on the form; the same journey with the keyboard alone; and a
 * spreadsheet, first with errors shown per row and cell, then a good one sent as a job. axe checks every page.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { describeWithBrowser, expectAccessible, launchBrowser, tabTo } from '../support/browser.ts';
import { follow, GUESTS, MEMBER, startTemplatesWorld, submit, words, type TemplatesWorld } from './templates-support.ts';

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
        versions: [{ name: 'Avis de rendez-vous', subject: 'Votre rendez-vous, ((prénom))', content: 'Bonjour ((prénom)),\n\nVotre rendez-vous est le ((date)).' }],
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

    // Each placeholder is required.
    await submit(page);
    expect(await page.locator('.error-summary').innerText()).toContain(f('send.error.placeholderMissing', { name: 'prénom' }));
    await expectAccessible(page);

    await page.getByLabel('prénom', { exact: true }).fill('Alex');
    await page.getByLabel('date', { exact: true }).fill('1er juin');
    await submit(page);
    expect(await heading()).toBe(f('send.message.titleEmail', { recipient: MEMBER.email }));
    expect(await page.locator('.notice.success').innerText()).toContain(f('send.notice.sent'));
    // The page follows the message by itself (template-editor.js) until the sink provider has delivered it.
    await expect.poll(() => page.locator('#message-status').innerText(), { timeout: 20_000 }).toBe(f('send.status.delivered'));
    expect(await page.locator('.timeline').innerText()).toContain('livré');
    notificationUrl = page.url().replace(/\?.*$/, '');
    expect(await page.locator('.summary-list').first().innerText()).toContain(MEMBER.name);
    expect(await page.frameLocator('iframe.email-frame').locator('body').innerText()).toContain('Votre rendez-vous est le 1er juin.');
    await expectAccessible(page);

    // Envoi's own record: sent by the person, with no API key.
    const row = await world.envoi.database.db.selectFrom('notifications').select(['api_key_id', 'created_by_id', 'status']).where('service_id', '=', world.serviceId).executeTakeFirstOrThrow();
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

    const bad = ['adresse courriel,prénom,date', `${GUESTS[0]},Ana,1er juin`, 'pas-une-adresse,Bo,2 juin', `${GUESTS[1]},,3 juin`].join('\n');
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
    expect(await page.locator('.notice.success').first().innerText()).toContain(f('send.check.ready.other', { count: 2, template: 'Avis de rendez-vous' }));
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

  it('schedules a spreadsheet for later, and cancels it', async () => {
    await page.goto(`${service()}/send/${world.templates.notice}/upload`);
    const list = ['adresse courriel,prénom,date', `${GUESTS[0]},Ana,1er juin`].join('\n');
    await page.setInputFiles('#file', { name: 'plus-tard.csv', mimeType: 'text/csv', buffer: Buffer.from(list) });
    await submit(page);
    await page.check('#when-later');
    await page.selectOption('#at', { index: 2 });
    await submit(page);
    expect(await page.locator('.notice.success').innerText()).toContain(f('send.notice.scheduled'));
    expect(await page.locator('#job-status').innerText()).toBe(f('send.job.status.scheduled'));
    await submit(page, 'main form[action$="/cancel"] button');
    expect(await page.locator('.notice.success').innerText()).toContain(f('send.notice.cancelled'));
    expect(await page.locator('#job-status').innerText()).toBe(f('send.job.status.cancelled'));
    await expectAccessible(page);
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
});
