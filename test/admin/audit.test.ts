/**
 * The audit log's details in a real browser, in English and in French, axe on the page. A member creates an API
 * key and revokes it, changes a colleague's permissions and removes a suppression entry, and a platform admin
 * changes the daily limits, all through the UI; the audit page then says, in its language, in which service (named
 * and linked), which key of what type, the permissions and limits before and after. Rows stored with the old
 * snake_case detail keys read the same, keys the page does not know are shown as they are, and a hostile service
 * name is text, never markup.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { sql } from 'kysely';
import { startEnvoi, type RunningEnvoi } from '../support/envoi.ts';
import { auditDetailLines, describeWithBrowser, expectAccessible, launchBrowser } from '../support/browser.ts';
import { serviceFile, signedInPage, TEAM_EMAIL } from './activity-support.ts';
import { addSuppression } from '../../src/notify/repositories/suppressions.ts';
import { MESSAGES } from '../../src/platform/ui/i18n/index.ts';

const HOSTILE = '<img src=x onerror="window.pwned=1">Évil & "co"';
const MANAGER = 'dana.manager@tbs-sct.gc.ca';

describeWithBrowser('the audit log shows what happened', () => {
  let envoi: RunningEnvoi;
  let browser: Browser;
  let serviceId: string;
  let hostileId: string;
  const db = () => envoi.database.db;

  beforeAll(async () => {
    const file = serviceFile('Passport renewals');
    file.services[0]!.message_limit = { email: 1000, sms: 2000, international_sms: 100 };
    file.services.push({ name: HOSTILE });
    envoi = await startEnvoi({ bootstrap: file });
    browser = await launchBrowser();
    serviceId = envoi.provisioned.services[0]!.id;
    hostileId = envoi.provisioned.services[1]!.id;
    const path = (p: string) => `${envoi.url}/services/${serviceId}${p}`;

    // A manager of the service who is also a platform admin, working in the English UI.
    const page = await signedInPage(envoi, browser, { serviceId, email: MANAGER, locale: 'en-CA' });
    await db().updateTable('users').set({ platform_admin: true }).where('email_address', '=', MANAGER).execute();
    const submit = async (action: string) => {
      await page.locator(`form[action="${action}"] button[type=submit]`).first().click();
      await page.waitForLoadState();
    };

    // An API key created, then revoked.
    await page.goto(path('/api/keys/new'));
    await page.fill('#name', 'ci-live');
    await page.check('input[name="key_type"][value="normal"]');
    await submit(`/services/${serviceId}/api/keys`);
    const key = await db().selectFrom('api_keys').select('id').where('name', '=', 'ci-live').executeTakeFirstOrThrow();
    await page.goto(path(`/api/keys/${key.id}/revoke`));
    await submit(`/services/${serviceId}/api/keys/${key.id}/revoke`);

    // A colleague's permissions: send messages and manage templates, then send messages only.
    const pat = await db()
      .selectFrom('users')
      .select('id')
      .where('email_address', '=', TEAM_EMAIL)
      .executeTakeFirstOrThrow();
    await db()
      .updateTable('service_users')
      .set({ permissions: ['send_messages', 'manage_templates'] })
      .where('user_id', '=', pat.id)
      .execute();
    await page.goto(path(`/team/members/${pat.id}`));
    await page.uncheck('input[name="permissions"][value="manage_templates"]');
    await submit(`/services/${serviceId}/team/members/${pat.id}`);

    // A suppression entry removed.
    await addSuppression(
      db(),
      { serviceId, channel: 'email', recipient: 'plainte@example.ca' },
      { reason: 'complaint' },
    );
    await page.goto(path('/suppressions/remove?channel=email&recipient=plainte%40example.ca'));
    await submit(`/services/${serviceId}/suppressions/remove`);

    // The daily email limit raised by the platform admin.
    await page.goto(`${envoi.url}/platform-admin/services/${serviceId}`);
    await page.fill('#email', '25000');
    await submit(`/platform-admin/services/${serviceId}/limits`);
    await page.context().close();

    // Rows as they were stored before every detail key was camelCase, and one with keys the page does not know.
    const manager = await db()
      .selectFrom('users')
      .select('id')
      .where('email_address', '=', MANAGER)
      .executeTakeFirstOrThrow();
    const old = (event: string, details: Record<string, unknown>) =>
      sql`INSERT INTO audit_events (event, actor_id, user_id, ip, details, created_at)
          VALUES (${event}, ${manager.id}, NULL, '203.0.113.9', ${JSON.stringify(details)}::jsonb, now() - interval '1 day')`.execute(
        db(),
      );
    await old('api-key-created', {
      service_id: serviceId,
      service_name: 'Passport renewals',
      key_id: randomUUID(),
      key_name: 'old-style',
      key_type: 'team',
    });
    await old('api-key-revoked', {
      service_id: hostileId,
      service_name: HOSTILE,
      key_id: randomUUID(),
      key_name: '<b>key</b>',
      key_type: 'test',
    });
    await old('suppression-removed', {
      service_id: serviceId,
      service_name: 'Passport renewals',
      channel: 'sms',
      recipient: '+16135550123',
      reason: 'opted-out',
    });
    await old('service-limits-changed', { serviceId, email: 1000, sms: 2000, internationalSms: 100 });
    await old('service-created', { serviceId: hostileId, name: HOSTILE });
    await old('go-live-requested', { serviceId: hostileId });
    await old('account-unlocked', { ticket: 'INC-42', '<b>note</b>': '<i>looked at</i>', count: 12345 });
  });
  afterAll(async () => {
    await browser?.close();
    await envoi?.stop();
  });

  for (const lang of ['en', 'fr'] as const) {
    it(`says in which service, with which key, what changed, in ${lang === 'en' ? 'English' : 'French'}`, async () => {
      const w = MESSAGES[lang];
      const line = (labelKey: string, value: string) =>
        `${w['audit.detail.line']!.replace('{label}', w[labelKey] ?? labelKey)} ${value}`;
      const service = (name = 'Passport renewals') => line('audit.detail.service', name);
      const apiKey = (name: string, type: string) =>
        line('audit.detail.apiKey', `${name} (${w[`api.keyType.${type}`]})`);
      const permissions = (...ps: string[]) => ps.map((p) => w[`team.permission.${p}`]).join(', ');
      // Numbers as the page's language writes them, spelt out here rather than formatted the way the page does.
      const n = (en: string, fr: string) => (lang === 'en' ? en : fr);

      const admin = await signedInPage(envoi, browser, {
        serviceId,
        email: MANAGER,
        locale: lang === 'fr' ? 'fr-CA' : 'en-CA',
      });
      const rowsOf = async (event: string) => {
        await admin.goto(`${envoi.url}/platform-admin/audit?event=${event}`);
        return admin.locator('tbody tr');
      };

      await admin.goto(`${envoi.url}/platform-admin/audit`);
      expect(await admin.locator('thead th').allInnerTexts()).toEqual(
        ['when', 'event', 'about', 'by', 'ip', 'details'].map((k) => w[`platformAdmin.audit.${k}`]),
      );
      await expectAccessible(admin);

      // The key created and revoked through the UI, and one created before the keys were camelCase.
      let rows = await rowsOf('api-key-created');
      const created = rows.filter({ hasText: 'ci-live' });
      expect(await auditDetailLines(created)).toEqual([service(), apiKey('ci-live', 'normal')]);
      expect(await created.locator(`td:last-child a[href="/services/${serviceId}"]`).innerText()).toBe(
        'Passport renewals',
      );
      const oldStyle = rows.filter({ hasText: 'old-style' });
      expect(await auditDetailLines(oldStyle)).toEqual([service(), apiKey('old-style', 'team')]);
      expect(await oldStyle.locator(`td:last-child a[href="/services/${serviceId}"]`).innerText()).toBe(
        'Passport renewals',
      );
      rows = await rowsOf('api-key-revoked');
      expect(await auditDetailLines(rows.filter({ hasText: 'ci-live' }))).toEqual([
        service(),
        apiKey('ci-live', 'normal'),
      ]);
      await expectAccessible(admin);

      // Permissions before and after; the service is named though the event recorded only its id.
      rows = await rowsOf('permissions-changed');
      expect(await rows.count()).toBe(1);
      expect(await auditDetailLines(rows)).toEqual([
        service(),
        line(
          'audit.detail.permissions',
          `${permissions('send_messages', 'manage_templates')} → ${permissions('send_messages')}`,
        ),
      ]);
      expect(await rows.locator(`td:last-child a[href="/services/${serviceId}"]`).innerText()).toBe(
        'Passport renewals',
      );
      expect(await rows.locator('td:last-child .visually-hidden').innerText()).toBe(w['audit.detail.becomes']);

      // The suppression entry removed, and one removed before the keys were camelCase.
      rows = await rowsOf('suppression-removed');
      expect(await auditDetailLines(rows.filter({ hasText: 'plainte@example.ca' }))).toEqual([
        service(),
        line('audit.detail.recipient', `plainte@example.ca (${w['suppressions.channel.email']})`),
        line('audit.detail.reason', w['suppressions.reason.complaint']!),
      ]);
      expect(await auditDetailLines(rows.filter({ hasText: '+16135550123' }))).toEqual([
        service(),
        line('audit.detail.recipient', `+16135550123 (${w['suppressions.channel.sms']})`),
        line('audit.detail.reason', w['suppressions.reason.opted-out']!),
      ]);

      // Limits: the change made now (what changed, before and after), and one recorded with the new values only.
      rows = await rowsOf('service-limits-changed');
      expect(await rows.count()).toBe(2);
      expect(await auditDetailLines(rows.first())).toEqual([
        service(),
        line('settings.limits.email', n('1,000 → 25,000', '1\u00a0000 → 25\u00a0000')),
      ]);
      expect(await auditDetailLines(rows.last())).toEqual([
        service(),
        line('settings.limits.email', n('1,000', '1\u00a0000')),
        line('settings.limits.sms', n('2,000', '2\u00a0000')),
        line('settings.limits.internationalSms', '100'),
      ]);
      await expectAccessible(admin);

      // A hostile service name, recorded or looked up today, is text.
      for (const event of ['api-key-revoked', 'service-created', 'go-live-requested']) {
        rows = await rowsOf(event);
        const hostile = rows.filter({ has: admin.locator(`a[href="/services/${hostileId}"]`) });
        expect(await hostile.locator(`td:last-child a[href="/services/${hostileId}"]`).innerText()).toBe(HOSTILE);
        expect(await admin.locator('tbody img, tbody b').count()).toBe(0);
      }
      expect(await auditDetailLines((await rowsOf('api-key-revoked')).filter({ hasText: '<b>key</b>' }))).toEqual([
        service(HOSTILE),
        apiKey('<b>key</b>', 'test'),
      ]);
      expect(await admin.evaluate('window.pwned')).toBeUndefined();

      // Keys the page does not know are shown as recorded, escaped, numbers in the page's language (in the order
      // the database keeps a JSON object's keys, which is not the order they were written in).
      rows = await rowsOf('account-unlocked');
      expect((await auditDetailLines(rows)).sort()).toEqual(
        [
          line('ticket', 'INC-42'),
          line('<b>note</b>', '<i>looked at</i>'),
          line('count', n('12,345', '12\u00a0345')),
        ].sort(),
      );
      expect(await admin.locator('tbody b, tbody i').count()).toBe(0);
      await expectAccessible(admin);
      await admin.context().close();
    });
  }
});
