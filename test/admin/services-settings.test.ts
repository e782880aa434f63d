/**
 * A service's settings and the platform admin's pages in a real browser, in French: every settings form with its
 * errors, callbacks and their signing secret, a logo upload, the request to go live approved by a platform admin
 * (the requester told by email through Envoi), daily limits, and suspension, after which the service's API key
 * gets the API's refusal. axe on every page.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { describeWithBrowser, expectAccessible } from '../support/browser.ts';
import { createTemplate } from '../delivery/fixtures.ts';
import { startUi, type UiHarness } from './services-support.ts';

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

describeWithBrowser('service settings and platform admin (fr)', () => {
  let ui: UiHarness;
  let admin: Page;
  let serviceId = '';
  const me = { name: 'Geneviève Admin', email: 'genevieve@tbs-sct.gc.ca', password: 'une phrase de passe correcte' };
  const url = (path: string) => `${ui.envoi.url}${path}`;
  const settings = (path = '') => `/services/${serviceId}/settings${path}`;

  beforeAll(async () => {
    ui = await startUi('fr');
    admin = await ui.firstAdmin(me);
    await admin.goto(url('/services/new'));
    await admin.fill('#name', 'Prestations');
    await admin.fill('#email_sender', 'prestations');
    await ui.submit(admin, '/services/new');
    serviceId = /\/services\/([0-9a-f-]{36})/.exec(admin.url())![1]!;
  });
  afterAll(async () => {
    await ui?.stop();
  });

  it('shows the settings and changes the name, email sender and retention, with errors shown', async () => {
    const { w } = ui;
    await admin.goto(url(settings()));
    expect(await ui.heading(admin)).toBe(w['settings.title']);
    expect(await admin.getAttribute('html', 'lang')).toBe('fr');
    expect(await admin.locator('main').innerText()).toContain('prestations@');
    await expectAccessible(admin);

    await admin.goto(url(settings('/name')));
    await expectAccessible(admin);
    await admin.fill('#name', '   ');
    await ui.submit(admin, settings('/name'));
    expect(await admin.locator('.error-summary a[href="#name"]').innerText()).toBe(w['services.error.name-missing']);
    await expectAccessible(admin);
    await admin.fill('#name', 'Prestations familiales');
    await ui.submit(admin, settings('/name'));
    expect(await admin.locator('.notice.success').innerText()).toContain(w['settings.done.name']);

    await admin.goto(url(settings('/email-sender')));
    await expectAccessible(admin);
    await admin.fill('#sender_name', 'Prestations Canada');
    await admin.fill('#email_sender', 'pas valide');
    await ui.submit(admin, settings('/email-sender'));
    expect(await admin.locator('#email_sender-error').innerText()).toContain(w['services.error.local-part-invalid']);
    await expectAccessible(admin);
    await admin.fill('#email_sender', 'prestations.familiales');
    await ui.submit(admin, settings('/email-sender'));
    expect(await admin.locator('main').innerText()).toContain('prestations.familiales@');

    await admin.goto(url(settings('/retention')));
    await expectAccessible(admin);
    await admin.fill('#days', '120');
    await ui.submit(admin, settings('/retention'));
    expect(await admin.locator('#days-error').innerText()).toContain(
      w['services.error.retention-invalid']!.replace('{min}', '3').replace('{max}', '90'),
    );
    await expectAccessible(admin);
    await admin.fill('#days', '30');
    await ui.submit(admin, settings('/retention'));
    expect(await admin.locator('.notice.success').innerText()).toContain(w['settings.done.retention']);

    const row = await ui.envoi.database.db
      .selectFrom('services')
      .selectAll()
      .where('id', '=', serviceId)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      name: 'Prestations familiales',
      email_sender_name: 'Prestations Canada',
      email_sender_local_part: 'prestations.familiales',
      data_retention_days: 30,
    });
  });

  it('manages reply-to addresses and text message senders', async () => {
    const { w } = ui;
    await admin.goto(url(settings('/reply-to')));
    await expectAccessible(admin);
    await admin.fill('#value', 'pas une adresse');
    await ui.submit(admin, settings('/reply-to'));
    expect(await admin.locator('#value-error').innerText()).toContain(w['services.error.reply-to-invalid']);
    await expectAccessible(admin);
    for (const address of ['info@prestations.gc.ca', 'aide@prestations.gc.ca']) {
      await admin.goto(url(settings('/reply-to')));
      await admin.fill('#value', address);
      await ui.submit(admin, settings('/reply-to'));
    }
    await admin.goto(url(settings('/reply-to')));
    await admin.locator('tbody tr', { hasText: 'aide@' }).locator('form[action$="/default"] button').click();
    await admin.waitForLoadState();
    await admin.goto(url(settings('/reply-to')));
    expect(await admin.locator('tbody tr', { hasText: 'aide@' }).innerText()).toContain(w['settings.yes']);
    await expectAccessible(admin);

    await admin.goto(url(settings('/sms-senders')));
    await expectAccessible(admin);
    await admin.fill('#value', 'X');
    await ui.submit(admin, settings('/sms-senders'));
    expect(await admin.locator('#value-error').innerText()).toContain(w['services.error.sms-sender-invalid']);
    await admin.fill('#value', 'PRESTATION');
    await ui.submit(admin, settings('/sms-senders'));
    expect(await admin.locator('main').innerText()).toContain('PRESTATION');
    const senders = await ui.envoi.services.directory.smsSenders(serviceId);
    expect(senders).toEqual([expect.objectContaining({ value: 'PRESTATION', isDefault: true })]);
  });

  it('sets a callback and shows its signing secret', async () => {
    const { w } = ui;
    await admin.goto(url(settings('/callbacks/delivery_status')));
    await expectAccessible(admin);
    await admin.fill('#url', 'http://example.gc.ca/rappels');
    await admin.fill('#bearer_token', 'court');
    await ui.submit(admin, settings('/callbacks/delivery_status'));
    expect(await admin.locator('#url-error').innerText()).toContain(w['settings.callbacks.error.url-https']);
    expect(await admin.locator('#bearer_token-error').innerText()).toContain(w['settings.callbacks.error.token-short']);
    await expectAccessible(admin);
    await admin.fill('#url', 'https://example.gc.ca/rappels');
    await admin.fill('#bearer_token', 'un jeton assez long');
    await ui.submit(admin, settings('/callbacks/delivery_status'));
    expect(await admin.locator('.notice.success').innerText()).toContain(w['settings.done.callbacks']);
    expect(await admin.locator('main').innerText()).toContain('https://example.gc.ca/rappels');
    expect(await admin.locator('#webhook-secret').innerText()).toMatch(/^whsec_[A-Za-z0-9+/=]{40,}$/);
    await expectAccessible(admin);
  });

  it('uploads a PNG logo with alt text in both languages, and refuses other files', async () => {
    const { w } = ui;
    await admin.goto(url(settings('/branding')));
    await expectAccessible(admin);
    await admin.check('#branding-logo');
    await admin.setInputFiles('#logo', {
      name: 'logo.svg',
      mimeType: 'image/svg+xml',
      buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'),
    });
    await ui.submit(admin, settings('/branding'));
    const summary = await admin.locator('.error-summary').innerText();
    expect(summary).toContain(w['settings.branding.error.logo-type']);
    expect(summary).toContain(w['settings.branding.error.alt-en-missing']);
    expect(summary).toContain(w['settings.branding.error.alt-fr-missing']);
    await expectAccessible(admin);

    await admin.setInputFiles('#logo', { name: 'logo.png', mimeType: 'image/png', buffer: PNG });
    await admin.fill('#alt_en', 'Family benefits');
    await admin.fill('#alt_fr', 'Prestations familiales');
    await ui.submit(admin, settings('/branding'));
    expect(await admin.locator('.notice.success').innerText()).toContain(w['settings.done.branding']);
    await admin.goto(url(settings('/branding')));
    expect(await admin.getAttribute('.logo-preview img', 'alt')).toBe('Prestations familiales');
    await expectAccessible(admin);
    const logo = await admin.request.get(url(settings('/branding/logo')));
    expect(logo.headers()['content-type']).toBe('image/png');
    expect(Buffer.from(await logo.body()).equals(PNG)).toBe(true);
  });

  it('asks to go live once the checklist is complete; a platform admin approves and the requester is told', async () => {
    const { w } = ui;
    const db = ui.envoi.database.db;
    await admin.goto(url(settings('/go-live')));
    expect(await admin.locator('main').innerText()).toContain(w['settings.goLive.notReady']);
    await expectAccessible(admin);

    // A second manager and a template complete the checklist (a reply-to address is already set).
    const second = await db
      .insertInto('users')
      .values({ name: 'Deuxième', email_address: 'deux@gc.ca' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('service_users')
      .values({ service_id: serviceId, user_id: second.id, permissions: ['manage_service'] })
      .execute();
    await createTemplate(db, serviceId, { type: 'email', subject: 'Bonjour', content: 'Bonjour ((nom))' });
    await admin.goto(url(settings('/go-live')));
    await ui.submit(admin, settings('/go-live'));
    expect(await admin.locator('.error-summary a[href="#main_use"]').innerText()).toBe(
      w['services.error.main-use-missing'],
    );
    await expectAccessible(admin);
    await admin.fill('#main_use', 'Rappels de renouvellement aux familles');
    await admin.fill('#expected_email', '2 000');
    await admin.fill('#expected_sms', '0');
    await ui.submit(admin, settings('/go-live'));
    expect(await admin.locator('.notice.success').innerText()).toContain(w['settings.done.go-live']);

    await admin.goto(url('/platform-admin'));
    await admin.locator('a[href="/platform-admin/live-requests"]').click();
    await admin.waitForLoadState();
    await expectAccessible(admin);
    await admin.locator(`a[href="/platform-admin/services/${serviceId}"]`).click();
    await admin.waitForLoadState();
    expect(await admin.locator('main').innerText()).toContain('Rappels de renouvellement aux familles');
    await expectAccessible(admin);
    const request = await db
      .selectFrom('go_live_requests')
      .select('id')
      .where('service_id', '=', serviceId)
      .executeTakeFirstOrThrow();
    await ui.submit(admin, `/platform-admin/live-requests/${request.id}/decline`);
    expect(await admin.locator('#reason-error').innerText()).toContain(w['platformServices.requests.reasonMissing']);
    await expectAccessible(admin);
    await ui.submit(admin, `/platform-admin/live-requests/${request.id}/approve`);
    expect(await admin.locator('.notice.success').innerText()).toContain(w['platformServices.done.approved']);

    const told = await ui.nextMessage(me.email);
    expect(told.subject).toBe('Prestations familiales est maintenant activé sur Envoi');
    const service = await db.selectFrom('services').selectAll().where('id', '=', serviceId).executeTakeFirstOrThrow();
    expect(service).toMatchObject({ restricted: false, email_message_limit: 10_000, sms_message_limit: 1_500 });
    await admin.goto(url(settings()));
    expect(await admin.locator('main').innerText()).toContain(w['settings.goLive.live']);
    const audit = await db
      .selectFrom('audit_events')
      .select('event')
      .where('event', 'in', ['go-live-requested', 'go-live-approved'])
      .execute();
    expect(audit).toHaveLength(2);
  });

  it('changes daily limits, and suspends a service so that its API key is refused, then restores it', async () => {
    const { w } = ui;
    const provisioned = await ui.envoi.bootstrap({
      services: [{ id: serviceId, name: 'Prestations familiales', api_keys: [{ name: 'cle', type: 'normal' }] }],
    });
    const key = provisioned.services[0]!.api_keys.cle!;
    const callApi = () => fetch(url('/v2/templates'), { headers: { authorization: `ApiKey-v1 ${key}` } });
    expect((await callApi()).status).toBe(200);

    await admin.goto(url('/platform-admin/services'));
    expect(await admin.locator('tbody tr', { hasText: 'Prestations familiales' }).innerText()).toContain(
      w['services.mode.live'],
    );
    await expectAccessible(admin);

    const page = `/platform-admin/services/${serviceId}`;
    await admin.goto(url(page));
    await admin.fill('#sms', 'beaucoup');
    await ui.submit(admin, `${page}/limits`);
    expect(await admin.locator('#sms-error').innerText()).toContain(w['platformServices.limits.invalid']);
    await expectAccessible(admin);
    await admin.fill('#sms', '2500');
    await ui.submit(admin, `${page}/limits`);
    expect(await admin.locator('.notice.success').innerText()).toContain(w['platformServices.done.limits']);
    await admin.goto(url(settings()));
    expect(await admin.locator('main').innerText()).toMatch(/2\s500/);

    await admin.goto(url(page));
    await ui.submit(admin, `${page}/suspend`);
    expect(await admin.locator('.notice.success').innerText()).toContain(w['platformServices.done.suspended']);
    const refused = await callApi();
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({
      errors: [{ error: 'AuthError', message: 'Invalid token: service is archived' }],
    });
    await admin.goto(url(settings()));
    expect(await admin.locator('main').innerText()).toContain(w['service.suspended']);
    await expectAccessible(admin);

    await admin.goto(url(page));
    await ui.submit(admin, `${page}/restore`);
    expect((await callApi()).status).toBe(200);
    const events = await ui.envoi.database.db
      .selectFrom('audit_events')
      .select('event')
      .where('event', 'in', ['service-suspended', 'service-restored', 'service-limits-changed'])
      .execute();
    expect(events.map((e) => e.event).sort()).toEqual([
      'service-limits-changed',
      'service-restored',
      'service-suspended',
    ]);
  });
});
