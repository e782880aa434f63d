/**
 * API integration in a real browser: create a key in the UI, copy the full key shown once, send with the official
 * notifications-node-client, see the requests (and a failure) listed; revoke the key after confirming, and see the
 * client refused. Both languages, axe on every page, audit events for creation and revocation.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startEnvoi, type RunningEnvoi } from '../support/envoi.ts';
import { describeWithBrowser, expectAccessible, launchBrowser } from '../support/browser.ts';
import { waitFor } from '../delivery/fixtures.ts';
import { clientFailure, NotifyClient } from '../api/helpers.ts';
import { serviceFile, signedInPage, TEAM_EMAIL } from './activity-support.ts';
import { parseApiKeyString } from '../../src/notify/settings/api-keys.ts';
import en from '../../src/platform/ui/i18n/api.en.json' with { type: 'json' };
import fr from '../../src/platform/ui/i18n/api.fr.json' with { type: 'json' };

describeWithBrowser('API integration', () => {
  let envoi: RunningEnvoi;
  let browser: Browser;
  let serviceId: string;
  let emailTemplate: string;
  let page: Page;

  beforeAll(async () => {
    envoi = await startEnvoi({ bootstrap: serviceFile() });
    browser = await launchBrowser();
    serviceId = envoi.provisioned.services[0]!.id;
    emailTemplate = envoi.provisioned.services[0]!.templates.email!;
    page = await signedInPage(envoi, browser, {
      serviceId,
      email: 'developer@tbs-sct.gc.ca',
      locale: 'en-CA',
      permissions: ['manage_api_keys'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await envoi?.stop();
  });

  async function submit(p: Page, action: string) {
    await p.locator(`form[action="${action}"] button[type=submit]`).click();
    await p.waitForLoadState();
  }

  it('creates a key shown once, which the official client sends with; its requests and failures are listed', async () => {
    await page.goto(`${envoi.url}/services/${serviceId}/api`);
    expect(await page.locator('h1').innerText()).toBe(en['api.title']);
    expect(await page.locator('table.api-keys tbody tr td:first-child').allInnerTexts()).toEqual(['bootstrap live']);
    await expectAccessible(page);

    await page.locator(`a[href="/services/${serviceId}/api/keys/new"]`).click();
    await page.waitForLoadState();
    await expectAccessible(page);
    // Nothing chosen: both problems, linked to their fields.
    await submit(page, `/services/${serviceId}/api/keys`);
    expect(await page.locator('.error-summary a').allInnerTexts()).toEqual([
      en['api.create.name.missing'],
      en['api.create.type.missing'],
    ]);
    expect(await page.getAttribute('.error-summary a >> nth=1', 'href')).toBe('#key_type');
    await expectAccessible(page);
    // A name the service already uses.
    await page.fill('#name', 'bootstrap live');
    await page.check('#key_type-team');
    await submit(page, `/services/${serviceId}/api/keys`);
    expect(await page.locator('#name-error').innerText()).toContain(en['api.create.name.taken']);
    expect(await page.isChecked('#key_type-team')).toBe(true);

    await page.fill('#name', 'Case system');
    await submit(page, `/services/${serviceId}/api/keys`);
    expect(await page.locator('h1').innerText()).toBe(en['api.created.title']);
    await expectAccessible(page);
    const key = (await page.locator('#api-key').innerText()).trim();
    expect(parseApiKeyString(key)).toMatchObject({ name: 'Case_system', serviceId });

    // Shown once: the list has the key, but never its secret.
    await page.goto(`${envoi.url}/services/${serviceId}/api`);
    expect(await page.content()).not.toContain(parseApiKeyString(key)!.secret);
    expect(await page.locator('table.api-keys tbody tr:first-child td').allInnerTexts()).toEqual(
      expect.arrayContaining(['Case system', en['api.keyType.team']]),
    );

    const client = new NotifyClient(envoi.url, key);
    const sent = await client.sendEmail(emailTemplate, TEAM_EMAIL, {
      personalisation: { name: 'Pat' },
      reference: 'from the UI key',
    });
    expect(sent.status).toBe(201);
    const refused = await clientFailure(client.sendEmail(emailTemplate, TEAM_EMAIL, { personalisation: {} }));
    expect(refused.status).toBe(400);

    // Requests are written about once a second: reload until both are there.
    await waitFor(async () => {
      await page.goto(`${envoi.url}/services/${serviceId}/api`);
      return (await page.locator('table.api-requests tbody tr').count()) >= 2;
    }, 'the requests to be listed');
    const rows = page.locator('table.api-requests tbody tr');
    expect(await rows.nth(0).locator('td').allInnerTexts()).toEqual([
      expect.any(String),
      'POST /v2/notifications/email',
      en['api.requests.failed'].replace('{status}', '400'),
      'Case system',
    ]);
    expect(await rows.nth(0).getAttribute('class')).toBe('failed');
    expect(await rows.nth(1).locator('td').nth(2).innerText()).toBe(en['api.requests.ok'].replace('{status}', '201'));
    await expectAccessible(page);
    await page.goto(`${envoi.url}/services/${serviceId}/api?failures=1`);
    expect(await page.locator('table.api-requests tbody tr').count()).toBe(1);
    await expectAccessible(page);

    // Revoke, after a confirmation page.
    await page.goto(`${envoi.url}/services/${serviceId}/api`);
    await page.locator('table.api-keys tbody tr', { hasText: 'Case system' }).locator('a').click();
    await page.waitForLoadState();
    expect(await page.locator('h1').innerText()).toBe(en['api.revoke.title'].replace('{name}', 'Case system'));
    await expectAccessible(page);
    await page.locator('form button.danger').click();
    await page.waitForLoadState();
    expect(await page.locator('.notice.success').innerText()).toContain(en['api.notice.revoked']);
    expect(
      await page.locator('table.api-keys tbody tr', { hasText: 'Case system' }).locator('td').nth(3).innerText(),
    ).toMatch(/^Revoked on /);
    await expectAccessible(page);

    const afterRevoke = await clientFailure(
      client.sendEmail(emailTemplate, TEAM_EMAIL, { personalisation: { name: 'Pat' } }),
    );
    expect(afterRevoke).toEqual({
      status: 403,
      data: { status_code: 403, errors: [{ error: 'AuthError', message: 'Invalid token: API key revoked' }] },
    });
    // The refusal is listed for the team too.
    await waitFor(async () => {
      await page.goto(`${envoi.url}/services/${serviceId}/api?failures=1`);
      return (await page.locator('table.api-requests tbody tr').count()) >= 2;
    }, 'the refusal to be listed');
    expect(await page.locator('table.api-requests tbody tr').first().locator('td').nth(2).innerText()).toBe(
      en['api.requests.failed'].replace('{status}', '403'),
    );

    const events = await envoi.database.db
      .selectFrom('audit_events')
      .select(['event', 'details'])
      .where('event', 'like', 'api-key-%')
      .orderBy('id')
      .execute();
    expect(events.map((e) => [e.event, (e.details as Record<string, unknown>).keyName])).toEqual([
      ['api-key-created', 'Case system'],
      ['api-key-revoked', 'Case system'],
    ]);
  });

  it('reads in French', async () => {
    const french = await signedInPage(envoi, browser, {
      serviceId,
      email: 'developer@tbs-sct.gc.ca',
      locale: 'fr-CA',
      permissions: ['manage_api_keys'],
    });
    await french.goto(`${envoi.url}/services/${serviceId}/api`);
    expect(await french.locator('h1').innerText()).toBe(fr['api.title']);
    await expectAccessible(french);
    await french.goto(`${envoi.url}/services/${serviceId}/api/keys/new`);
    await french.fill('#name', 'x'.repeat(300));
    await submit(french, `/services/${serviceId}/api/keys`);
    expect(await french.locator('.error-summary a').allInnerTexts()).toEqual([
      fr['api.create.name.tooLong'].replace('{max}', '255'),
      fr['api.create.type.missing'],
    ]);
    await expectAccessible(french);
    await french.fill('#name', 'Système de dossiers');
    await french.check('#key_type');
    await submit(french, `/services/${serviceId}/api/keys`);
    expect(await french.locator('h1').innerText()).toBe(fr['api.created.title']);
    await expectAccessible(french);
    const keyId = (
      await envoi.database.db
        .selectFrom('api_keys')
        .select('id')
        .where('name', '=', 'Système de dossiers')
        .executeTakeFirstOrThrow()
    ).id;
    await french.goto(`${envoi.url}/services/${serviceId}/api/keys/${keyId}/revoke`);
    expect(await french.locator('h1').innerText()).toBe(
      fr['api.revoke.title'].replace('{name}', 'Système de dossiers'),
    );
    await expectAccessible(french);
    await french.context().close();
  });

  it('refuses a forged revocation and keys of other services', async () => {
    const keyId = (
      await envoi.database.db
        .selectFrom('api_keys')
        .select('id')
        .where('name', '=', 'bootstrap live')
        .executeTakeFirstOrThrow()
    ).id;
    const forged = await page
      .context()
      .request.post(`${envoi.url}/services/${serviceId}/api/keys/${keyId}/revoke`, { form: { _csrf: 'nope' } });
    expect(forged.status()).toBe(403);
    const row = await envoi.database.db
      .selectFrom('api_keys')
      .select('expiry_date')
      .where('id', '=', keyId)
      .executeTakeFirstOrThrow();
    expect(row.expiry_date).toBeNull();
    // Unknown or malformed key ids lead back to the list.
    const unknown = await page.goto(`${envoi.url}/services/${serviceId}/api/keys/not-a-uuid/revoke`);
    expect(unknown!.url()).toBe(`${envoi.url}/services/${serviceId}/api`);
  });
});
