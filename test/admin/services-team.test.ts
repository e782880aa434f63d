/**
 * Services and teams in a real browser, in English: create a service, invite someone by email (read from the
 * sink outbox, sent through Envoi), who creates an account from the link though their address is outside the
 * sign-up domains, then change their permissions, keep a manager, remove them; the guest list. axe on every page.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { auditDetailLines, describeWithBrowser, expectAccessible } from '../support/browser.ts';
import { startUi, type UiHarness } from './services-support.ts';

describeWithBrowser('services and team (en)', () => {
  let ui: UiHarness;
  let admin: Page;
  let serviceId = '';
  const admin_ = { name: 'Alex Admin', email: 'alex@tbs-sct.gc.ca', password: 'correct horse battery staple' };
  const invitee = { name: 'Pat Partner', email: 'pat.partner@example.com', password: 'a partner passphrase' };
  const url = (path: string) => `${ui.envoi.url}${path}`;

  beforeAll(async () => {
    ui = await startUi('en');
    admin = await ui.firstAdmin(admin_);
  });
  afterAll(async () => {
    await ui?.stop();
  });

  it('creates a service in trial mode, with errors shown for a bad form', async () => {
    const { w } = ui;
    await admin.goto(url('/services'));
    expect(await ui.heading(admin)).toBe(w['services.title']);
    expect(await admin.locator('main').innerText()).toContain(w['services.none']);
    await expectAccessible(admin);

    await admin.locator('a[href="/services/new"]').first().click();
    await admin.waitForLoadState();
    await expectAccessible(admin);
    await admin.fill('#email_sender', 'Not valid!');
    await ui.submit(admin, '/services/new');
    expect(await admin.locator('.error-summary a[href="#name"]').innerText()).toBe(w['services.error.name-missing']);
    await expectAccessible(admin);
    await admin.fill('#name', 'Passport renewals');
    await ui.submit(admin, '/services/new');
    expect(await admin.locator('#email_sender-error').innerText()).toContain(w['services.error.local-part-invalid']);
    await admin.fill('#email_sender', 'passport');
    await ui.submit(admin, '/services/new');
    serviceId = /\/services\/([0-9a-f-]{36})/.exec(admin.url())![1]!;

    const row = await ui.envoi.database.db
      .selectFrom('services')
      .selectAll()
      .where('id', '=', serviceId)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      name: 'Passport renewals',
      restricted: true,
      email_message_limit: 50,
      sms_message_limit: 50,
      email_sender_local_part: 'passport',
    });

    // The home page and the services page list it.
    await admin.goto(url('/'));
    expect(await admin.locator(`main a[href="/services/${serviceId}"]`).innerText()).toBe('Passport renewals');
    await expectAccessible(admin);
  });

  it('invites a team member through Envoi; they create an account from the link and join', async () => {
    const { w } = ui;
    await admin.goto(url(`/services/${serviceId}/team`));
    expect(await ui.heading(admin)).toBe(w['team.title']);
    await expectAccessible(admin);
    await admin.locator(`a[href="/services/${serviceId}/team/invite"]`).click();
    await admin.waitForLoadState();
    await expectAccessible(admin);
    await admin.fill('#email', 'pat@');
    await admin.uncheck('#permissions');
    await admin.uncheck('#permissions-view_activity');
    await ui.submit(admin, `/services/${serviceId}/team/invite`);
    expect(await admin.locator('.error-summary').innerText()).toContain(w['team.error.no-permissions']);
    await expectAccessible(admin);
    await admin.check('#permissions');
    await ui.submit(admin, `/services/${serviceId}/team/invite`);
    expect(await admin.locator('#email-error').innerText()).toContain(w['team.error.invalid-email']);
    await admin.fill('#email', invitee.email);
    await admin.check('#permissions-view_activity');
    await ui.submit(admin, `/services/${serviceId}/team/invite`);
    expect(await admin.locator('.notice.success').innerText()).toContain(w['team.done.invited']);
    expect(await admin.locator('main').innerText()).toContain(invitee.email);
    await expectAccessible(admin);

    const message = await ui.nextMessage(invitee.email);
    expect(message.subject).toBe('Alex Admin invited you to join Passport renewals on Envoi');
    const link = ui.linkIn(message, 'invitation');

    const p = await ui.page();
    await p.goto(link);
    expect(await ui.heading(p)).toBe(w['invitation.title']!.replace('{service}', 'Passport renewals'));
    await expectAccessible(p);
    await p.fill('#name', invitee.name);
    await p.fill('#password', 'password1');
    await p.locator('form[action$="/sign-up"] button').click();
    await p.waitForLoadState();
    expect(await p.locator('#password-error').innerText()).toContain(w['field.password.common']);
    await expectAccessible(p);
    await p.fill('#password', invitee.password);
    await p.locator('form[action$="/sign-up"] button').click();
    await p.waitForLoadState();
    expect(await p.locator('.notice.success').innerText()).toContain(w['notice.account-created']);

    // The link worked once.
    const again = await ui.page();
    await again.goto(link);
    expect(await ui.heading(again)).toBe(w['invitation.expired.title']);
    await expectAccessible(again);
    await again.context().close();

    await ui.signIn(p, invitee.email, invitee.password);
    await p.goto(url(`/services/${serviceId}/team`));
    expect(await ui.heading(p)).toBe(w['team.title']);
    const patRow = p.locator('tbody tr', { hasText: invitee.email });
    expect(await patRow.innerText()).toContain(w['team.permission.send_messages']);
    expect(await patRow.innerText()).toContain(w['team.permission.view_activity']);
    // No manage_service: no invitations, no settings.
    expect(await p.locator(`a[href="/services/${serviceId}/team/invite"]`).count()).toBe(0);
    const settings = await p.goto(url(`/services/${serviceId}/settings`));
    expect(settings!.status()).toBe(403);
    await p.context().close();
  });

  it('changes permissions, keeps someone able to manage the service, and removes a member', async () => {
    const { w } = ui;
    const pat = await ui.envoi.database.db
      .selectFrom('users')
      .select('id')
      .where('email_address', '=', invitee.email)
      .executeTakeFirstOrThrow();
    const me = await ui.envoi.database.db
      .selectFrom('users')
      .select('id')
      .where('email_address', '=', admin_.email)
      .executeTakeFirstOrThrow();

    await admin.goto(url(`/services/${serviceId}/team/members/${me.id}`));
    await expectAccessible(admin);
    await admin.uncheck('#permissions-manage_service');
    await ui.submit(admin, `/services/${serviceId}/team/members/${me.id}`);
    expect(await admin.locator('.error-summary').innerText()).toContain(w['team.error.last-manager']);
    await expectAccessible(admin);

    await admin.goto(url(`/services/${serviceId}/team/members/${pat.id}`));
    await admin.check('#permissions-manage_service');
    await admin.uncheck('#permissions');
    await ui.submit(admin, `/services/${serviceId}/team/members/${pat.id}`);
    expect(await admin.locator('.notice.success').innerText()).toContain(w['team.done.permissions']);
    const patRow = admin.locator('tbody tr', { hasText: invitee.email });
    expect(await patRow.innerText()).toContain(w['team.permission.manage_service']);
    expect(await patRow.innerText()).not.toContain(w['team.permission.send_messages']);

    await admin.goto(url(`/services/${serviceId}/team/members/${pat.id}`));
    await ui.submit(admin, `/services/${serviceId}/team/members/${pat.id}/remove`);
    expect(await admin.locator('.notice.success').innerText()).toContain(w['team.done.removed']);
    expect(await admin.locator('main').innerText()).not.toContain(invitee.email);

    // The audit log shows the changes to platform admins: in which service, and what changed.
    const line = (label: string, value: string) => `${label}: ${value}`;
    const permissions = (...ps: string[]) => ps.map((p) => w[`team.permission.${p}`]).join(', ');
    await admin.goto(url('/platform-admin/audit?event=permissions-changed'));
    expect(await admin.locator('tbody').innerText()).toContain(invitee.email);
    expect(await admin.locator(`tbody td:last-child a[href="/services/${serviceId}"]`).innerText()).toBe(
      'Passport renewals',
    );
    expect(await auditDetailLines(admin.locator('tbody tr'))).toEqual([
      line(w['audit.detail.service']!, 'Passport renewals'),
      line(
        w['audit.detail.permissions']!,
        `${permissions('send_messages', 'view_activity')} → ${permissions('manage_service', 'view_activity')}`,
      ),
    ]);
    // Screen readers hear a word where the arrow is.
    expect(await admin.locator('tbody td:last-child .visually-hidden').innerText()).toBe(w['audit.detail.becomes']);
    await admin.goto(url('/platform-admin/audit?event=member-invited'));
    expect(await admin.locator('tbody tr').count()).toBe(1);
    expect(await auditDetailLines(admin.locator('tbody tr'))).toEqual([
      line(w['audit.detail.service']!, 'Passport renewals'),
      line(w['audit.detail.email']!, invitee.email),
      line(w['audit.detail.permissions']!, permissions('send_messages', 'view_activity')),
    ]);
    await expectAccessible(admin);
  });

  it('lets someone with an account accept an invitation after signing in', async () => {
    const { w } = ui;
    await admin.goto(url(`/services/${serviceId}/team/invite`));
    await admin.fill('#email', invitee.email.toUpperCase());
    await ui.submit(admin, `/services/${serviceId}/team/invite`);
    const link = ui.linkIn(await ui.nextMessage(invitee.email), 'invitation');

    const p = await ui.page();
    await p.goto(link);
    await expectAccessible(p);
    await p.locator('a[href^="/sign-in?next="]').click();
    await p.waitForLoadState();
    await p.fill('#email', invitee.email);
    await p.fill('#password', invitee.password);
    await ui.submit(p, '/sign-in');
    const code = /\b(\d{6})\b/.exec((await ui.nextMessage(invitee.email)).body)![1]!;
    await p.fill('#code', code);
    await ui.submit(p, '/sign-in/code');
    // Back on the invitation, now signed in.
    expect(new URL(p.url()).pathname).toBe(new URL(link).pathname);
    await expectAccessible(p);
    await p.locator('form[action$="/accept"] button').click();
    await p.waitForLoadState();
    expect(await ui.heading(p)).toBe(w['team.title']);
    expect(await p.locator('.notice.success').innerText()).toContain(w['team.done.joined']);
    expect(await p.locator('tbody tr', { hasText: invitee.email }).innerText()).toContain(
      w['team.permission.send_messages'],
    );
    await p.context().close();
  });

  it('keeps a guest list of valid addresses and numbers', async () => {
    const { w } = ui;
    await admin.goto(url(`/services/${serviceId}/team/guest-list`));
    expect(await ui.heading(admin)).toBe(w['team.guests.title']);
    await expectAccessible(admin);
    const action = `/services/${serviceId}/team/guest-list`;
    await admin.fill('#recipient', 'not a recipient');
    await ui.submit(admin, action);
    expect(await admin.locator('.error-summary a[href="#recipient"]').innerText()).toBe(
      w['team.error.invalid-recipient'],
    );
    await expectAccessible(admin);
    await admin.fill('#recipient', 'Guest@Example.gc.ca');
    await ui.submit(admin, action);
    await admin.fill('#recipient', '613 555 0123');
    await ui.submit(admin, action);
    const table = await admin.locator('tbody').innerText();
    expect(table).toContain('guest@example.gc.ca');
    expect(table).toContain('+16135550123');
    await expectAccessible(admin);
    await admin.locator('tbody tr', { hasText: '+16135550123' }).locator('button').click();
    await admin.waitForLoadState();
    expect(await admin.locator('.notice.success').innerText()).toContain(w['team.done.guest-removed']);
    expect(await admin.locator('tbody').innerText()).not.toContain('+16135550123');
    // A restricted service may now send to the guest.
    const allowed = await ui.envoi.services.directory.allowedRecipients(serviceId);
    expect(allowed.has('guest@example.gc.ca')).toBe(true);
  });
});
