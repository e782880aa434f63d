/**
 * Managing templates in a real browser (Debian's Chromium): folders, creating and editing (each save a version),
 * version history, previews with personalisation (the real rendered email in its sandboxed frame), the text message
 * counter (server and script), copying and archiving. axe checks every page visited, in English and in French.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { describeWithBrowser, expectAccessible, launchBrowser } from '../support/browser.ts';
import { follow, startTemplatesWorld, submit, words, type TemplatesWorld } from './templates-support.ts';

describeWithBrowser('templates', () => {
  let browser: Browser;
  let world: TemplatesWorld;
  let page: Page;
  let templateUrl = '';
  const w = (key: string, params?: Record<string, string | number>) => words('en', key, params);

  beforeAll(async () => {
    browser = await launchBrowser();
    world = await startTemplatesWorld(browser);
    page = await world.page('en-CA');
  });
  afterAll(async () => {
    await browser?.close();
    await world?.envoi.stop();
  });

  const base = () => `${world.envoi.url}/services/${world.serviceId}/templates`;
  const heading = async (p: Page = page) => (await p.locator('h1').innerText()).trim();

  it('creates a folder and an email template in it, then edits it: the history shows both versions', async () => {
    await page.goto(base());
    expect(await heading()).toBe(w('templates.list.title'));
    expect(await page.locator('main').innerText()).toContain(w('templates.list.empty'));
    await expectAccessible(page);

    // A folder, listed before templates.
    await follow(page, page.getByRole('link', { name: w('templates.list.newFolder') }));
    await expectAccessible(page);
    await submit(page);
    expect(await page.locator('.error-summary a[href="#name"]').innerText()).toBe(w('templates.folder.nameMissing'));
    await expectAccessible(page);
    await page.fill('#name', 'Reminders');
    await submit(page);
    expect(await heading()).toBe('Reminders');
    expect(await page.locator('.notice.success').innerText()).toContain(w('templates.notice.folder-created'));
    await expectAccessible(page);

    // New template in the folder: first the kind, then the form.
    await follow(page, page.getByRole('link', { name: w('templates.list.newTemplate') }));
    expect(await heading()).toBe(w('templates.new.title'));
    await expectAccessible(page);
    await submit(page);
    expect(await page.locator('.error-summary').innerText()).toContain(w('templates.new.typeMissing'));
    await expectAccessible(page);
    await page.check('#type');
    await submit(page);
    expect(await heading()).toBe(w('templates.new.titleEmail'));
    await expectAccessible(page);

    // Every field is checked, errors linked from the summary.
    await submit(page);
    const summary = await page.locator('.error-summary').innerText();
    expect(summary).toContain(w('templates.field.name.missing'));
    expect(summary).toContain(w('templates.field.subject.missing'));
    expect(summary).toContain(w('templates.field.content.missing'));
    expect(await page.getAttribute('#content', 'aria-invalid')).toBe('true');
    await expectAccessible(page);

    await page.fill('#name', 'Appointment reminder');
    await page.fill('#subject', 'Your appointment on ((date))');
    await page.fill('#content', 'Hello ((first name)),\n\n# Your appointment\n\nIt is on ((date)).');
    await page.check('#category'); // the first choice: urgent
    expect(await page.locator('#folder option:checked').innerText()).toBe('Reminders');
    await submit(page);
    expect(await heading()).toBe('Appointment reminder');
    expect(await page.locator('.notice.success').innerText()).toContain(w('templates.notice.created'));
    expect(await page.locator('.summary-list').first().innerText()).toContain(w('templates.category.high'));
    await expectAccessible(page);
    templateUrl = page.url().replace(/\?.*$/, '');

    // The folder lists it; the top level lists the folder.
    await page.goto(base());
    expect(await page.locator('.template-list').first().innerText()).toContain('Reminders');
    expect(await page.locator('main').innerText()).not.toContain('Appointment reminder');

    // An edit is a new version.
    await page.goto(`${templateUrl}/edit`);
    await expectAccessible(page);
    await page.fill('#content', 'Hello ((first name)),\n\n# Your appointment\n\nIt is on ((date)). Bring your card.');
    await submit(page);
    expect(await page.locator('.notice.success').innerText()).toContain(w('templates.notice.saved', { version: 2 }));

    await follow(page, page.getByRole('link', { name: w('templates.show.versions') }));
    expect(await heading()).toBe(w('templates.versions.title', { name: 'Appointment reminder' }));
    expect(await page.locator('tbody tr').count()).toBe(2);
    expect(await page.locator('tbody tr').first().innerText()).toContain(w('templates.versions.current'));
    expect(await page.locator('tbody').innerText()).toContain('Alex Sender');
    await expectAccessible(page);

    // The first version is still there as it was.
    await follow(page, page.getByRole('link', { name: w('templates.versions.label', { version: 1 }), exact: true }));
    expect(await page.locator('pre.template-source').innerText()).not.toContain('Bring your card');
    const frame = page.frameLocator('iframe.email-frame');
    expect(await frame.locator('body').innerText()).toContain('It is on ((date)).');
    await expectAccessible(page);
  });

  it('previews the email with sample personalisation: the real rendered email, in a frame with its own policy', async () => {
    await page.goto(`${templateUrl}/preview`);
    expect(await heading()).toBe(w('templates.preview.title', { name: 'Appointment reminder' }));
    await expectAccessible(page);
    // One field per placeholder, labelled with its name.
    expect(await page.locator('form.preview-form label').allInnerTexts()).toEqual(['date', 'first name']);
    await page.getByLabel('first name').fill('Alex <b>Tremblay</b>');
    await page.getByLabel('date').fill('June 1');
    await submit(page);
    expect(await page.locator('#preview-subject').innerText()).toBe('Your appointment on June 1');

    const frame = page.frameLocator('iframe.email-frame');
    expect(await frame.locator('h2').innerText()).toBe('Your appointment');
    const text = await frame.locator('body').innerText();
    expect(text).toContain('Hello Alex <b>Tremblay</b>,'); // a value's HTML shows as text
    expect(text).toContain('It is on June 1. Bring your card.');
    expect(await page.getAttribute('iframe.email-frame', 'sandbox')).toBe('');
    await expectAccessible(page);

    // The frame's own route: framing by this site only, no scripts; every other page refuses to be framed.
    const src = await page.getAttribute('iframe.email-frame', 'src');
    const framed = await page.request.get(`${world.envoi.url}${src}`);
    expect(framed.headers()['x-frame-options']).toBe('SAMEORIGIN');
    expect(framed.headers()['content-security-policy']).toContain("frame-ancestors 'self'");
    expect(framed.headers()['content-security-policy']).not.toContain('script-src');
    const plain = await page.request.get(`${templateUrl}/preview`);
    expect(plain.headers()['x-frame-options']).toBe('DENY');
  });

  it('counts a text message on the server and as the person types, warning about characters phones cannot show', async () => {
    await page.goto(`${base()}/new?type=sms`);
    expect(await heading()).toBe(w('templates.new.titleSms'));
    await page.fill('#name', 'Appointment text');
    // Without waiting for the script: the server counts what was sent back.
    await page.fill('#content', 'x'.repeat(700));
    await submit(page);
    expect(await page.locator('#content-error').innerText()).toBe(
      w('templates.field.content.smsTooLong', { count: 700 }),
    );

    const content = 'Hello ((name)), your appointment is confirmed ✅ — see you soon';
    await page.fill('#content', '');
    await page.locator('#content').pressSequentially(content);
    const counter = page.locator('#content-counter');
    await expect
      .poll(() => counter.innerText())
      .toContain(w('templates.sms.count.one', { characters: [...content].length, fragments: 1 }));
    expect(await counter.innerText()).toContain(w('templates.sms.replaced', { characters: '✅ —' }));
    await expectAccessible(page);
    await submit(page);
    expect(await heading()).toBe('Appointment text');
    // The template page counts it the same way, and shows it on a phone.
    expect(await page.locator('#sms-counter').innerText()).toContain(
      w('templates.sms.count.one', { characters: [...content].length, fragments: 1 }),
    );
    expect(await page.locator('.phone .sms-bubble').innerText()).toContain(
      'your appointment is confirmed ? - see you soon',
    );
    await expectAccessible(page);

    await follow(page, page.getByRole('link', { name: w('templates.show.preview') }));
    await page.getByLabel('name', { exact: true }).fill('Geneviève');
    await submit(page);
    expect(await page.locator('.phone .sms-bubble').innerText()).toContain('Hello Geneviève,');
    // ë is not in the text message alphabet: the whole message is sent as Unicode.
    expect(await page.locator('#sms-counter').innerText()).toContain(
      w('templates.sms.count.one', { characters: [...content.replace('((name))', 'Geneviève')].length, fragments: 1 }),
    );
    await expectAccessible(page);
  });

  it('copies a template, archives the copy, and shows the formatting guide', async () => {
    await page.goto(`${templateUrl}/copy`);
    expect(await page.inputValue('#name')).toBe(w('templates.copy.name', { name: 'Appointment reminder' }));
    await submit(page);
    expect(await heading()).toBe('Copy of Appointment reminder');
    const copyUrl = page.url().replace(/\?.*$/, '');
    expect(copyUrl).not.toBe(templateUrl);

    await follow(page, page.getByRole('link', { name: w('templates.show.archive') }));
    await expectAccessible(page);
    await submit(page);
    expect(await page.locator('.notice.success').innerText()).toContain(w('templates.notice.archived'));
    expect(await page.locator('main').innerText()).not.toContain('Copy of Appointment reminder');
    await page.goto(copyUrl);
    expect(await page.locator('.notice.warning').innerText()).toContain(w('templates.archivedNotice'));
    expect(await page.getByRole('link', { name: w('templates.show.send') }).count()).toBe(0);

    await page.goto(`${base()}/formatting-guide`);
    expect(await heading()).toBe(w('templates.guide.title'));
    await expectAccessible(page);
  });

  it('shows the same pages in French', async () => {
    const fr = await world.page('fr-CA');
    const f = (key: string, params?: Record<string, string | number>) => words('fr', key, params);
    await fr.goto(base());
    expect(await heading(fr)).toBe(f('templates.list.title'));
    await expectAccessible(fr);
    await fr.goto(templateUrl);
    expect(await fr.locator('.summary-list').first().innerText()).toContain(f('templates.category.high'));
    await expectAccessible(fr);
    await fr.goto(`${templateUrl}/versions`);
    expect(await heading(fr)).toBe(f('templates.versions.title', { name: 'Appointment reminder' }));
    await expectAccessible(fr);
    await fr.goto(`${templateUrl}/edit`);
    expect(await heading(fr)).toBe(f('templates.edit.title', { name: 'Appointment reminder' }));
    await expectAccessible(fr);
    await fr.goto(`${base()}/formatting-guide`);
    expect(await heading(fr)).toBe(f('templates.guide.title'));
    await expectAccessible(fr);
    await fr.context().close();
  });

  it('refuses changes to members without the permission, and other services’ templates', async () => {
    const db = world.envoi.database.db;
    const user = await db
      .selectFrom('users')
      .select('id')
      .where('email_address', '=', 'alex.sender@tbs-sct.gc.ca')
      .executeTakeFirstOrThrow();
    await db
      .updateTable('service_users')
      .set({ permissions: ['send_messages', 'view_activity'] })
      .where('user_id', '=', user.id)
      .execute();
    try {
      const response = await page.goto(`${templateUrl}/edit`);
      expect(response?.status()).toBe(403);
      const view = await page.goto(templateUrl);
      expect(view?.status()).toBe(200);
      expect(await page.getByRole('link', { name: w('templates.show.edit') }).count()).toBe(0);
    } finally {
      await db
        .updateTable('service_users')
        .set({
          permissions: ['send_messages', 'manage_templates', 'manage_service', 'manage_api_keys', 'view_activity'],
        })
        .where('user_id', '=', user.id)
        .execute();
    }
    // Malformed ids and versions are pages that do not exist, never errors.
    const service = `${world.envoi.url}/services/${world.serviceId}`;
    for (const path of [
      `${base()}/not-a-template`,
      `${base()}/folders/not-a-folder`,
      `${templateUrl}/versions/abc`,
      `${templateUrl}/versions/99`,
      `${service}/notifications/not-a-message`,
      `${service}/jobs/00000000-0000-4000-8000-000000000000`,
      `${service}/send/not-a-template/upload/not-an-upload`,
    ]) {
      expect((await page.goto(path))?.status(), path).toBe(404);
    }
    const other = await world.envoi.bootstrap({
      services: [
        {
          name: 'Other Service',
          templates: [{ key: 'x', type: 'sms', versions: [{ name: 'Secret', content: 'Hi' }] }],
        },
      ],
    });
    const response = await page.goto(`${base()}/${other.services[0]!.templates.x}`);
    expect(response?.status()).toBe(404);
  });
});
