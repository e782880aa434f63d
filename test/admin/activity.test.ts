/**
 * The activity page in a real browser, in English and French: messages newest first, filtered by status and
 * channel, found by recipient (typed the way a person types it) or by reference, paged; each links to its own
 * page; and the filtered list downloaded as CSV with formula-looking cells made harmless. axe on every page.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startEnvoi, type RunningEnvoi } from '../support/envoi.ts';
import { describeWithBrowser, expectAccessible, launchBrowser } from '../support/browser.ts';
import { daysAgo, insertRows, serviceFile, signedInPage } from './activity-support.ts';
import en from '../../src/platform/ui/i18n/activity.en.json' with { type: 'json' };
import fr from '../../src/platform/ui/i18n/activity.fr.json' with { type: 'json' };

describeWithBrowser('activity', () => {
  let envoi: RunningEnvoi;
  let browser: Browser;
  let serviceId: string;
  let ids: Record<string, string>;
  let page: Page;

  beforeAll(async () => {
    envoi = await startEnvoi({
      bootstrap: { services: [...serviceFile().services, ...serviceFile('Other Service').services] },
    });
    browser = await launchBrowser();
    const [service, other] = envoi.provisioned.services;
    serviceId = service!.id;
    const t = service!.templates;
    // 55 older deliveries (so that there is a second page), then the messages the tests look for, newest last.
    await insertRows(
      envoi,
      serviceId,
      Array.from({ length: 55 }, (_, i) => ({
        templateId: t.email!,
        type: 'email' as const,
        to: `bulk${i}@example.com`,
        status: 'delivered',
        createdAt: daysAgo(3),
      })),
    );
    const [failed, sms, formula, testKey] = await insertRows(envoi, serviceId, [
      {
        templateId: t.email!,
        type: 'email',
        to: 'Ann.Person@Example.com',
        status: 'permanent-failure',
        createdAt: daysAgo(1),
        reference: 'case-1234',
      },
      {
        templateId: t.sms!,
        type: 'sms',
        to: '(613) 555-0123',
        normalisedTo: '+16135550123',
        status: 'sending',
        createdAt: daysAgo(0.5),
      },
      {
        templateId: t.email!,
        type: 'email',
        to: 'formula@example.com',
        status: 'delivered',
        reference: '=HYPERLINK("http://evil.example","click")',
      },
      { templateId: t.email!, type: 'email', to: 'test-key@example.com', status: 'delivered', keyType: 'test' },
    ]);
    ids = { failed: failed!, sms: sms!, formula: formula!, testKey: testKey! };
    await insertRows(envoi, other!.id, [
      {
        templateId: other!.templates.email!,
        type: 'email',
        to: 'Ann.Person@Example.com',
        status: 'delivered',
        reference: 'case-1234',
      },
    ]);
    page = await signedInPage(envoi, browser, {
      serviceId,
      email: 'lead@tbs-sct.gc.ca',
      locale: 'en-CA',
      permissions: ['view_activity'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await envoi?.stop();
  });

  const recipients = async () =>
    (await page.locator('table.activity tbody tr td:first-child a').allInnerTexts()).map((s) => s.trim());

  it('lists messages newest first, a page at a time, each linked to its own page', async () => {
    await page.goto(`${envoi.url}/services/${serviceId}/activity`);
    expect(await page.locator('h1').innerText()).toBe(en['activity.title']);
    await expectAccessible(page);
    const first = await recipients();
    expect(first).toHaveLength(50);
    expect(first.slice(0, 3)).toEqual(['formula@example.com', '(613) 555-0123', 'Ann.Person@Example.com']);
    expect(first).not.toContain('test-key@example.com');
    expect(await page.locator(`a[href="/services/${serviceId}/notifications/${ids.failed}"]`).count()).toBe(1);
    // The failure stands out, in words as well as colour.
    const failedRow = page.locator('table.activity tbody tr.failed');
    expect(await failedRow.count()).toBe(1);
    expect(await failedRow.locator('.status').innerText()).toBe(en['activity.status.permanent-failure']);

    await page.locator('a[rel="next"]').click();
    await page.waitForLoadState();
    expect(await recipients()).toHaveLength(8);
    await expectAccessible(page);
    expect(await page.locator('a[rel="prev"]').count()).toBe(1);
    expect(await page.locator('a[rel="next"]').count()).toBe(0);
  });

  it('filters by status and channel, and finds a recipient typed loosely or a reference', async () => {
    await page.goto(`${envoi.url}/services/${serviceId}/activity`);
    await page.selectOption('#status', 'failed');
    await page.locator('form.filters button[type=submit]').click();
    await page.waitForLoadState();
    expect(await recipients()).toEqual(['Ann.Person@Example.com']);
    expect(await page.locator('#status').inputValue()).toBe('failed');

    await page.selectOption('#status', '');
    await page.selectOption('#channel', 'sms');
    await page.locator('form.filters button[type=submit]').click();
    await page.waitForLoadState();
    expect(await recipients()).toEqual(['(613) 555-0123']);

    await page.selectOption('#channel', '');
    for (const [typed, expected] of [
      ['  ann.person@EXAMPLE.com ', 'Ann.Person@Example.com'],
      ['613-555-0123', '(613) 555-0123'],
      ['case-1234', 'Ann.Person@Example.com'],
    ] as const) {
      await page.fill('#search', typed);
      await page.locator('form.filters button[type=submit]').click();
      await page.waitForLoadState();
      expect(await recipients(), typed).toEqual([expected]);
    }
    await expectAccessible(page);

    await page.fill('#search', 'nobody@example.com');
    await page.locator('form.filters button[type=submit]').click();
    await page.waitForLoadState();
    expect(await page.locator('main p', { hasText: en['activity.noMatch'] }).count()).toBe(1);

    // Nonsense in the URL is ignored, not an error.
    const response = await page.goto(
      `${envoi.url}/services/${serviceId}/activity?status=bogus&channel=%00&page=-4&search=${'x'.repeat(2000)}`,
    );
    expect(response!.status()).toBe(200);
  });

  it('downloads the filtered list as CSV, with formula cells escaped', async () => {
    await page.goto(`${envoi.url}/services/${serviceId}/activity?status=delivered`);
    const download = await page.locator(`a[href^="/services/${serviceId}/activity/download"]`).getAttribute('href');
    expect(download).toBe(`/services/${serviceId}/activity/download?status=delivered`);
    const response = await page.context().request.get(`${envoi.url}${download}`);
    expect(response.status()).toBe(200);
    expect(response.headers()['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.headers()['content-disposition']).toMatch(
      /^attachment; filename="activity-\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    const text = (await response.body()).toString('utf8');
    expect(text.startsWith('\ufeffRecipient,Reference,Template,Type,Status,')).toBe(true);
    const lines = text.trim().split('\r\n');
    expect(lines).toHaveLength(1 + 55 + 1); // header, the 55 deliveries and the formula one; not the failure
    // The reference starts with `=`: an apostrophe keeps a spreadsheet from running it, and it is quoted (commas).
    expect(lines[1]).toBe(
      `formula@example.com,"'=HYPERLINK(""http://evil.example"",""click"")",Application received,Email,Delivered,${lines[1]!.split(',').slice(-4).join(',')}`,
    );
    expect(lines[1]!.endsWith(`,${ids.formula}`)).toBe(true);
    expect(text).not.toContain('Ann.Person');
  });

  it('reads in French, down to the CSV', async () => {
    const french = await signedInPage(envoi, browser, {
      serviceId,
      email: 'lead@tbs-sct.gc.ca',
      locale: 'fr-CA',
      permissions: ['view_activity'],
    });
    await french.goto(`${envoi.url}/services/${serviceId}/activity?search=case-1234`);
    expect(await french.locator('h1').innerText()).toBe(fr['activity.title']);
    expect(await french.locator('table.activity .status').innerText()).toBe(fr['activity.status.permanent-failure']);
    await expectAccessible(french);
    const csv = (
      await (
        await french.context().request.get(`${envoi.url}/services/${serviceId}/activity/download?search=case-1234`, {
          headers: { 'accept-language': 'fr-CA,fr' },
        })
      ).body()
    ).toString('utf8');
    expect(csv.split('\r\n')[0]).toBe(
      '\ufeffDestinataire,Référence,Gabarit,Type,État,Créé (UTC),Envoyé (UTC),Terminé (UTC),ID de la notification',
    );
    expect(csv.split('\r\n')[1]).toContain(',case-1234,Application received,Courriel,Adresse inexistante,');
    await french.context().close();
  });
});
