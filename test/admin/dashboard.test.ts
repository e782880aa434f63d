/**
 * A service's dashboard in a real browser, in English and French: the last 7 days per channel (chart and its
 * table) match the notifications written, test-key messages and other services' messages left out; today's usage
 * against the daily limits; the templates used most. axe on every page.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startEnvoi, type RunningEnvoi } from '../support/envoi.ts';
import { describeWithBrowser, expectAccessible, launchBrowser } from '../support/browser.ts';
import { daysAgo, insertRows, serviceFile, signedInPage, type RowSpec } from './activity-support.ts';
import { utcDay } from '../../src/notify/sending/limits.ts';
import en from '../../src/platform/ui/i18n/dashboard.en.json' with { type: 'json' };
import fr from '../../src/platform/ui/i18n/dashboard.fr.json' with { type: 'json' };

describeWithBrowser('service dashboard', () => {
  let envoi: RunningEnvoi;
  let browser: Browser;
  let serviceId: string;
  let templates: Record<string, string>;

  beforeAll(async () => {
    envoi = await startEnvoi({
      bootstrap: { services: [...serviceFile().services, ...serviceFile('Other Service').services] },
    });
    browser = await launchBrowser();
    const [service, other] = envoi.provisioned.services;
    serviceId = service!.id;
    templates = service!.templates;
    const email = (status: string, n: number, extra: Partial<RowSpec> = {}): RowSpec[] =>
      Array.from({ length: n }, () => ({
        templateId: templates.email!,
        type: 'email',
        to: 'someone@example.com',
        status,
        ...extra,
      }));
    const sms = (status: string, n: number, extra: Partial<RowSpec> = {}): RowSpec[] =>
      Array.from({ length: n }, () => ({
        templateId: templates.sms!,
        type: 'sms',
        to: '+16135550100',
        status,
        ...extra,
      }));
    await insertRows(envoi, serviceId, [
      ...email('delivered', 3),
      ...email('permanent-failure', 1),
      ...email('created', 1),
      ...email('delivered', 2, { keyType: 'test' }),
      ...email('delivered', 2, { createdAt: daysAgo(2) }),
      ...sms('sent', 1, { createdAt: daysAgo(2) }),
      ...sms('technical-failure', 1, { createdAt: daysAgo(2) }),
      ...email('delivered', 4, { createdAt: daysAgo(10) }),
    ]);
    await insertRows(
      envoi,
      other!.id,
      Array.from({ length: 9 }, () => ({
        templateId: other!.templates.email!,
        type: 'email' as const,
        to: 'x@example.com',
        status: 'delivered',
      })),
    );
    await envoi.database.db
      .insertInto('daily_send_counts')
      .values([
        { service_id: serviceId, day: utcDay(), channel: 'email', sent: 5 },
        { service_id: serviceId, day: utcDay(), channel: 'sms', sent: 2 },
      ])
      .execute();
  });
  afterAll(async () => {
    await browser?.close();
    await envoi?.stop();
  });

  async function rowCells(page: Page, selector: string): Promise<string[]> {
    return (await page.locator(selector).locator('th, td').allInnerTexts()).map((s) => s.trim());
  }

  for (const [lang, words] of [
    ['en', en],
    ['fr', fr],
  ] as const) {
    it(`shows the last 7 days per channel, today's usage and the templates used most (${lang})`, async () => {
      const page = await signedInPage(envoi, browser, {
        serviceId,
        email: `lead.${lang}@tbs-sct.gc.ca`,
        locale: lang === 'fr' ? 'fr-CA' : 'en-CA',
      });
      await page.goto(`${envoi.url}/services/${serviceId}`);
      expect(await page.locator('h1').innerText()).toBe(words['dashboard.title']);
      await expectAccessible(page);

      // Email: today 5 sent (3 delivered, 1 failed, 1 in transit); two days ago 2 delivered. Test keys, rows older
      // than 7 days and the other service's rows are not counted.
      const emailRows = page.locator('#chart-email-table tbody tr');
      expect(await emailRows.count()).toBe(7);
      expect((await rowCells(page, '#chart-email-table tbody tr:nth-child(7)')).slice(1)).toEqual(['5', '3', '1']);
      expect((await rowCells(page, '#chart-email-table tbody tr:nth-child(5)')).slice(1)).toEqual(['2', '2', '0']);
      expect((await rowCells(page, '#chart-email-table tbody tr:nth-child(1)')).slice(1)).toEqual(['0', '0', '0']);
      expect(await rowCells(page, '#chart-email-table tfoot tr')).toEqual([words['dashboard.total'], '7', '5', '1']);
      expect(await page.locator('#chart-email-table caption').innerText()).toBe(words['dashboard.tableCaption.email']);
      expect(await rowCells(page, '#chart-sms-table tfoot tr')).toEqual([words['dashboard.total'], '2', '1', '1']);
      expect((await rowCells(page, '#chart-sms-table tbody tr:nth-child(5)')).slice(1)).toEqual(['2', '1', '1']);

      // The chart: an image with a name, pointing at its table; one bar segment per non-zero figure.
      const chart = page.locator('section[aria-labelledby="chart-email-title"] svg[role="img"]');
      expect(await chart.getAttribute('aria-label')).toBe(words['dashboard.chartLabel.email']);
      expect(await chart.getAttribute('aria-describedby')).toBe('chart-email-table');
      expect(await chart.locator('rect').count()).toBe(4); // today: delivered, failed, in transit; two days ago: delivered

      // Today's usage against the trial limits (50 a day).
      expect(await page.locator('label[for="usage-email"]').innerText()).toBe(
        words['dashboard.usage.email'].replace('{sent}', '5').replace('{limit}', '50'),
      );
      expect(await page.getAttribute('#usage-email', 'value')).toBe('5');
      expect(await page.getAttribute('#usage-sms', 'max')).toBe('50');

      // Templates used most: the email template (7 messages), then the text one (2).
      expect(await rowCells(page, '.top-templates tbody tr:nth-child(1)')).toEqual([
        'Application received',
        lang === 'fr' ? 'Courriel' : 'Email',
        '7',
      ]);
      expect(await rowCells(page, '.top-templates tbody tr:nth-child(2)')).toEqual([
        'Appointment reminder',
        lang === 'fr' ? 'Message texte' : 'Text message',
        '2',
      ]);
      await page.context().close();
    });
  }

  it('is open to every member, and hides what they may not use', async () => {
    const page = await signedInPage(envoi, browser, {
      serviceId,
      email: 'sender.only@tbs-sct.gc.ca',
      locale: 'en-CA',
      permissions: ['send_messages'],
    });
    const response = await page.goto(`${envoi.url}/services/${serviceId}`);
    expect(response!.status()).toBe(200);
    expect(await page.locator('.service-nav a', { hasText: 'Activity' }).count()).toBe(0);
    expect((await page.goto(`${envoi.url}/services/${serviceId}/activity`))!.status()).toBe(403);
    expect((await page.goto(`${envoi.url}/services/${serviceId}/api`))!.status()).toBe(403);
    // A service they are not in does not exist for them.
    expect((await page.goto(`${envoi.url}/services/${envoi.provisioned.services[1]!.id}`))!.status()).toBe(404);
    await page.context().close();
  });
});
