/**
 * The outbox page while the sink providers stand in for real ones: an email sent through the API and delivered by
 * the worker appears rendered in a sandboxed frame with its own Content-Security-Policy, and a text message as a
 * phone shows it; only the service's own messages. Both languages, axe on every page.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startEnvoi, type RunningEnvoi } from '../support/envoi.ts';
import { describeWithBrowser, expectAccessible, launchBrowser } from '../support/browser.ts';
import { waitFor } from '../delivery/fixtures.ts';
import { NotifyClient } from '../api/helpers.ts';
import { serviceFile, signedInPage, TEAM_EMAIL, TEAM_MOBILE } from './activity-support.ts';
import { EMAIL_FRAME_POLICY, sinkInUse } from '../../src/notify/admin/outbox/routes.ts';
import { loadConfig } from '../../src/platform/config.ts';
import en from '../../src/platform/ui/i18n/outbox.en.json' with { type: 'json' };
import fr from '../../src/platform/ui/i18n/outbox.fr.json' with { type: 'json' };

describeWithBrowser('outbox', () => {
  let envoi: RunningEnvoi;
  let browser: Browser;
  let serviceId: string;
  let otherOutboxId: number;

  beforeAll(async () => {
    envoi = await startEnvoi({
      worker: true,
      bootstrap: { services: [...serviceFile().services, ...serviceFile('Other Service').services] },
    });
    browser = await launchBrowser();
    const [service, other] = envoi.provisioned.services;
    serviceId = service!.id;
    const client = new NotifyClient(envoi.url, service!.api_keys['bootstrap live']!);
    await client.sendSms(service!.templates.sms!, TEAM_MOBILE, { personalisation: { name: 'Pat' } });
    // One at a time, so that the outbox's order is known.
    await waitFor(
      async () => (await envoi.database.db.selectFrom('outbox').select('id').execute()).length === 1,
      'the text message to reach the outbox',
    );
    await client.sendEmail(service!.templates.email!, TEAM_EMAIL, { personalisation: { name: 'Pat <b>Member</b>' } });
    const otherClient = new NotifyClient(envoi.url, other!.api_keys['bootstrap live']!);
    await otherClient.sendEmail(other!.templates.email!, TEAM_EMAIL, { personalisation: { name: 'Other' } });
    await waitFor(async () => {
      const rows = await envoi.database.db.selectFrom('outbox').select(['id', 'service_id']).execute();
      return rows.length === 3 && rows;
    }, 'the three messages to reach the outbox');
    otherOutboxId = Number(
      (
        await envoi.database.db
          .selectFrom('outbox')
          .select('id')
          .where('service_id', '=', other!.id)
          .executeTakeFirstOrThrow()
      ).id,
    );
  });
  afterAll(async () => {
    await browser?.close();
    await envoi?.stop();
  });

  for (const [lang, words] of [
    ['en', en],
    ['fr', fr],
  ] as const) {
    it(`shows each email rendered and each text message as on a phone, newest first (${lang})`, async () => {
      const page = await signedInPage(envoi, browser, {
        serviceId,
        email: `viewer.${lang}@tbs-sct.gc.ca`,
        locale: lang === 'fr' ? 'fr-CA' : 'en-CA',
        permissions: ['view_activity'],
      });
      await page.goto(`${envoi.url}/services/${serviceId}/outbox`);
      expect(await page.locator('h1').innerText()).toBe(words['outbox.title']);
      expect(await page.locator('.service-nav a[aria-current="page"]').innerText()).toBe(
        lang === 'fr' ? 'Boîte d’envoi' : 'Outbox',
      );
      await expectAccessible(page);

      const entries = page.locator('ol.outbox > li');
      expect(await entries.count()).toBe(2);
      expect(await entries.nth(0).locator('h2').innerText()).toBe('We got your application, Pat <b>Member</b>');
      expect(await entries.nth(1).locator('h2').innerText()).toBe(words['outbox.textTo'].replace('{to}', TEAM_MOBILE));
      expect(await entries.nth(1).locator('.bubble').innerText()).toBe('Reminder: your appointment is tomorrow, Pat.');

      // The email as rendered, inside its frame: the personalisation is text, not markup.
      const frame = page.frameLocator('iframe.email-frame');
      await expect
        .poll(async () => frame.locator('body').innerText(), { timeout: 10_000 })
        .toContain('We received your application.');
      expect(await frame.locator('b').count()).toBe(0);
      expect(await page.getAttribute('iframe.email-frame', 'sandbox')).toBe('');
      await page.context().close();
    });
  }

  it('serves the email frame with its own policy, and only the service’s own messages', async () => {
    const page = await signedInPage(envoi, browser, {
      serviceId,
      email: 'viewer.en@tbs-sct.gc.ca',
      locale: 'en-CA',
      permissions: ['view_activity'],
    });
    await page.goto(`${envoi.url}/services/${serviceId}/outbox`);
    const src = (await page.getAttribute('iframe.email-frame', 'src'))!;
    const frame = await page.context().request.get(`${envoi.url}${src}`);
    expect(frame.status()).toBe(200);
    expect(frame.headers()['content-security-policy']).toBe(EMAIL_FRAME_POLICY);
    expect(frame.headers()['x-frame-options']).toBe('SAMEORIGIN');
    // The pages around it keep the strict policy.
    const outer = await page.context().request.get(`${envoi.url}/services/${serviceId}/outbox`);
    expect(outer.headers()['x-frame-options']).toBe('DENY');
    // Another service's message, through this service's URL, does not exist.
    const foreign = await page
      .context()
      .request.get(`${envoi.url}/services/${serviceId}/outbox/${otherOutboxId}/email`);
    expect(foreign.status()).toBe(404);
    expect((await page.context().request.get(`${envoi.url}/services/${serviceId}/outbox/abc/email`)).status()).toBe(
      404,
    );
    await page.context().close();
  });

  it('is there only while a sink provider is in use', () => {
    expect(sinkInUse(loadConfig({}))).toBe(true);
    expect(sinkInUse({ emailProviders: ['ses'], smsProviders: ['twilio'] })).toBe(false);
  });
});
