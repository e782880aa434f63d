/**
 * The suppression list page in a real browser: entries listed with their reason, date and message, found by part
 * of an address or by a phone number however it is written, a page at a time; removed after a confirmation page
 * (with JavaScript off), so that the address can be sent to again, and audited. Who may see and who may remove.
 * Both languages, axe on every page.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startEnvoi, type RunningEnvoi } from '../support/envoi.ts';
import { describeWithBrowser, expectAccessible, launchBrowser } from '../support/browser.ts';
import { insertRows, serviceFile, signedInPage } from './activity-support.ts';
import { addSuppression, suppressedRecipients } from '../../src/notify/repositories/suppressions.ts';
import en from '../../src/platform/ui/i18n/suppressions.en.json' with { type: 'json' };
import fr from '../../src/platform/ui/i18n/suppressions.fr.json' with { type: 'json' };

type Words = Record<string, string>;
const fill = (text: string, params: Record<string, string | number> = {}) =>
  text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));

describeWithBrowser('suppression list', () => {
  let envoi: RunningEnvoi;
  let browser: Browser;
  let serviceId: string;
  let bouncedMessage: string;
  const list = () => `${envoi.url}/services/${serviceId}/suppressions`;
  const db = () => envoi.database.db;

  beforeAll(async () => {
    envoi = await startEnvoi({ bootstrap: serviceFile() });
    browser = await launchBrowser();
    serviceId = envoi.provisioned.services[0]!.id;
    const templates = envoi.provisioned.services[0]!.templates;
    // 52 addresses added by hand first (older), then the three the tests look at (newest, so on page 1).
    for (let i = 0; i < 52; i++) {
      await addSuppression(db(), {
        serviceId,
        channel: 'email',
        recipient: `ancien${String(i).padStart(2, '0')}@archives.example.ca`,
      });
    }
    [bouncedMessage] = await insertRows(envoi, serviceId, [
      {
        templateId: templates.email!,
        type: 'email',
        to: 'Gone.Away@Example.ca',
        normalisedTo: 'gone.away@example.ca',
        status: 'permanent-failure',
      },
    ]);
    await addSuppression(
      db(),
      { serviceId, channel: 'email', recipient: 'gone.away@example.ca' },
      { reason: 'hard-bounce', notificationId: bouncedMessage },
    );
    await addSuppression(
      db(),
      { serviceId, channel: 'email', recipient: 'plainte@example.ca' },
      { reason: 'complaint' },
    );
    await addSuppression(db(), { serviceId, channel: 'sms', recipient: '+16135550123' }, { reason: 'opted-out' });
  });
  afterAll(async () => {
    await browser?.close();
    await envoi?.stop();
  });

  const rowsOf = async (page: Page) =>
    (await page.locator('table.suppressions tbody tr').allInnerTexts()).map((r) =>
      r.split('\t').map((c) => c.replace(/\s+/g, ' ').trim()),
    );

  it('lists entries with their reason and message, a page at a time, and finds them by part or by number', async () => {
    const page = await signedInPage(envoi, browser, { serviceId, email: 'pat.member@tbs-sct.gc.ca', locale: 'en-CA' });
    const w = en as Words;
    await page.goto(`${envoi.url}/services/${serviceId}`);
    await page.locator('.service-nav a', { hasText: w['service.menu.suppressions']! }).click();
    await page.waitForLoadState();
    expect(page.url()).toBe(list());
    expect(await page.locator('h1').innerText()).toBe(w['suppressions.title']);
    expect(await page.locator('.service-nav a[aria-current="page"]').innerText()).toBe(w['service.menu.suppressions']);
    const rows = await rowsOf(page);
    expect(rows).toHaveLength(50);
    expect(rows.slice(0, 3).map((r) => [r[0], r[1], r[2], r[4], r[5]])).toEqual([
      [
        '+16135550123',
        w['suppressions.channel.sms'],
        w['suppressions.reason.opted-out'],
        w['suppressions.notKnown'],
        `${w['suppressions.remove']} +16135550123`,
      ],
      [
        'plainte@example.ca',
        w['suppressions.channel.email'],
        w['suppressions.reason.complaint'],
        w['suppressions.notKnown'],
        `${w['suppressions.remove']} plainte@example.ca`,
      ],
      [
        'gone.away@example.ca',
        w['suppressions.channel.email'],
        w['suppressions.reason.hard-bounce'],
        `${w['suppressions.viewMessage']} ${fill(w['suppressions.to']!, { recipient: 'gone.away@example.ca' })}`,
        `${w['suppressions.remove']} gone.away@example.ca`,
      ],
    ]);
    expect(rows[3]![2]).toBe(w['suppressions.reason.manual']);
    await expectAccessible(page);

    // The message that caused it opens on its own page.
    await page.locator('table.suppressions a', { hasText: w['suppressions.viewMessage']! }).click();
    await page.waitForLoadState();
    expect(page.url()).toBe(`${envoi.url}/services/${serviceId}/notifications/${bouncedMessage}`);

    // Page 2 has the oldest five; page 1 links to it and back.
    await page.goto(list());
    await page.locator('a[rel="next"]').click();
    await page.waitForLoadState();
    expect((await rowsOf(page)).map((r) => r[0])).toEqual(
      ['ancien04', 'ancien03', 'ancien02', 'ancien01', 'ancien00'].map((a) => `${a}@archives.example.ca`),
    );
    expect(await page.locator('a[rel="next"]').count()).toBe(0);
    await expectAccessible(page);
    await page.locator('a[rel="prev"]').click();
    await page.waitForLoadState();
    expect(await rowsOf(page)).toHaveLength(50);

    // Part of an address; a phone number as people write it; the type alone; nothing.
    await page.fill('#search', '@EXAMPLE.ca');
    await page.locator('form[role="search"] button').click();
    await page.waitForLoadState();
    expect(await page.locator('#results-title').innerText()).toBe(
      fill(w['suppressions.resultsFor']!, { search: '@EXAMPLE.ca' }),
    );
    expect((await rowsOf(page)).map((r) => r[0])).toEqual(['plainte@example.ca', 'gone.away@example.ca']);
    await expectAccessible(page);
    await page.goto(`${list()}?search=${encodeURIComponent('(613) 555-0123')}`);
    expect((await rowsOf(page)).map((r) => r[0])).toEqual(['+16135550123']);
    await page.goto(`${list()}?channel=sms`);
    expect((await rowsOf(page)).map((r) => r[0])).toEqual(['+16135550123']);
    expect(await page.locator('#channel').inputValue()).toBe('sms');
    await page.goto(`${list()}?search=personne&channel=email&page=abc`);
    expect(await page.locator('main').innerText()).toContain(w['suppressions.noMatch']);
    await expectAccessible(page);
    await page.context().close();
  });

  it('removes an entry after a confirmation, without JavaScript, in French, and audits it', async () => {
    const w = fr as Words;
    // axe needs JavaScript in the page: the French pages are checked first, then the journey is made without it.
    const signedIn = await signedInPage(envoi, browser, {
      serviceId,
      email: 'pat.member@tbs-sct.gc.ca',
      locale: 'fr-CA',
    });
    await signedIn.goto(list());
    expect(await signedIn.locator('h1').innerText()).toBe(w['suppressions.title']);
    await expectAccessible(signedIn);
    await signedIn.goto(`${list()}/remove?channel=email&recipient=plainte%40example.ca`);
    expect(await signedIn.locator('h1').innerText()).toBe(
      fill(w['suppressions.remove.title']!, { recipient: 'plainte@example.ca' }),
    );
    await expectAccessible(signedIn);
    for (const notice of ['removed', 'gone']) {
      await signedIn.goto(`${list()}?notice=${notice}`);
      await expectAccessible(signedIn);
    }
    const context = await browser.newContext({ locale: 'fr-CA', javaScriptEnabled: false });
    await context.addCookies(await signedIn.context().cookies());
    await signedIn.context().close();
    const page = await context.newPage();

    await page.goto(list());
    expect(await page.locator('h1').innerText()).toBe(w['suppressions.title']);
    expect(await page.locator('table.suppressions tbody tr').first().locator('td').nth(2).innerText()).toBe(
      w['suppressions.reason.opted-out'],
    );

    await page
      .locator('table.suppressions tbody tr', { hasText: 'plainte@example.ca' })
      .getByRole('link', { name: `${w['suppressions.remove']} plainte@example.ca` })
      .click();
    await page.waitForLoadState();
    expect(await page.locator('h1').innerText()).toBe(
      fill(w['suppressions.remove.title']!, { recipient: 'plainte@example.ca' }),
    );
    expect(await page.locator('.notice.warning').innerText()).toBe(w['suppressions.remove.warning.complaint']);
    expect(await page.locator('.summary-list').innerText()).toContain(w['suppressions.reason.complaint']);

    // "No" goes back with nothing removed.
    await page.getByRole('link', { name: w['suppressions.remove.cancel']! }).click();
    await page.waitForLoadState();
    expect(page.url()).toBe(list());
    expect(await page.locator('table.suppressions tbody tr', { hasText: 'plainte@example.ca' }).count()).toBe(1);

    await page.locator('table.suppressions tbody tr', { hasText: 'plainte@example.ca' }).getByRole('link').click();
    await page.waitForLoadState();
    await page.getByRole('button', { name: w['suppressions.remove.confirm']! }).click();
    await page.waitForLoadState();
    expect(page.url()).toBe(`${list()}?notice=removed`);
    expect(await page.locator('.notice.success').innerText()).toBe(w['suppressions.notice.removed']);
    expect(await page.locator('table.suppressions tbody tr', { hasText: 'plainte@example.ca' }).count()).toBe(0);

    // Envoi sends to it again: the delivery worker's look-up no longer finds it.
    const key = { serviceId, channel: 'email' as const, recipient: 'plainte@example.ca' };
    expect(await suppressedRecipients(db(), [key])).toEqual(new Set());
    const events = await db()
      .selectFrom('audit_events as a')
      .innerJoin('users as u', 'u.id', 'a.actor_id')
      .select(['a.event', 'a.details', 'u.email_address'])
      .where('a.event', '=', 'suppression-removed')
      .execute();
    expect(events.map((e) => [e.email_address, e.details])).toEqual([
      [
        'pat.member@tbs-sct.gc.ca',
        {
          serviceId,
          serviceName: 'Benefits Service',
          channel: 'email',
          recipient: 'plainte@example.ca',
          reason: 'complaint',
        },
      ],
    ]);

    // Removing it again (from a second tab) says it is not on the list; so do a stale link and nonsense.
    const again = await page.request.post(`${list()}/remove`, {
      form: { _csrf: await csrfToken(page), channel: 'email', recipient: 'plainte@example.ca' },
      maxRedirects: 0,
    });
    expect([again.status(), again.headers().location]).toEqual([
      303,
      `/services/${serviceId}/suppressions?notice=gone`,
    ]);
    for (const query of [
      'channel=email&recipient=plainte%40example.ca',
      'channel=fax&recipient=x',
      `channel=sms&recipient=${'9'.repeat(500)}`,
    ]) {
      await page.goto(`${list()}/remove?${query}`);
      expect(page.url()).toBe(`${list()}?notice=gone`);
    }
    expect(await page.locator('.service-content .notice.info').innerText()).toBe(w['suppressions.notice.gone']);
    await context.close();
  });

  it('lets those who view activity see the list, and only those who send remove from it', async () => {
    const viewer = await signedInPage(envoi, browser, {
      serviceId,
      email: 'viewer@tbs-sct.gc.ca',
      locale: 'en-CA',
      permissions: ['view_activity'],
    });
    await viewer.goto(list());
    expect(await viewer.locator('h1').innerText()).toBe(en['suppressions.title']);
    expect(await viewer.locator('table.suppressions thead th').count()).toBe(5);
    expect(await viewer.getByRole('link', { name: new RegExp(`^${en['suppressions.remove']} `) }).count()).toBe(0);
    await expectAccessible(viewer);
    const confirm = await viewer.goto(`${list()}/remove?channel=sms&recipient=%2B16135550123`);
    expect(confirm?.status()).toBe(403);
    const token = await csrfToken(viewer);
    const post = await viewer.request.post(`${list()}/remove`, {
      form: { _csrf: token, channel: 'sms', recipient: '+16135550123' },
      maxRedirects: 0,
    });
    expect(post.status()).toBe(403);

    const sender = await signedInPage(envoi, browser, {
      serviceId,
      email: 'sender@tbs-sct.gc.ca',
      locale: 'en-CA',
      permissions: ['send_messages'],
    });
    expect((await sender.goto(list()))?.status()).toBe(403);
    await sender.goto(`${envoi.url}/services/${serviceId}/templates`);
    expect(await sender.locator('.service-nav a', { hasText: en['service.menu.suppressions'] }).count()).toBe(0);
    // A form without the CSRF token is refused, and the entry stays.
    const forged = await sender.request.post(`${list()}/remove`, {
      form: { channel: 'sms', recipient: '+16135550123' },
      maxRedirects: 0,
    });
    expect(forged.status()).toBe(403);
    // Another service's id in the URL finds nothing of this one.
    const elsewhere = await sender.request.post(
      `${envoi.url}/services/00000000-0000-4000-8000-000000000000/suppressions/remove`,
      {
        form: { _csrf: await csrfToken(sender), channel: 'sms', recipient: '+16135550123' },
        maxRedirects: 0,
      },
    );
    expect(elsewhere.status()).toBe(404);
    expect(await suppressedRecipients(db(), [{ serviceId, channel: 'sms', recipient: '+16135550123' }])).toEqual(
      new Set([`${serviceId}:sms:+16135550123`]),
    );
    await viewer.context().close();
    await sender.context().close();
  });
});

/** The CSRF token the page's forms carry (the search form has none: the site header's sign-out form does). */
async function csrfToken(page: Page): Promise<string> {
  return (await page.locator('input[name="_csrf"]').first().getAttribute('value')) ?? '';
}
