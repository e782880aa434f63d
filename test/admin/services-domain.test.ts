/**
 * The rules of services and teams, on a real database (PGlite, or PostgreSQL with DATABASE_URL): trial mode for
 * new services, someone always able to manage a service, single-use invitations, the guest list, senders with
 * one default, retention bounds, logos, going live and suspension.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';
import { createTemplate } from '../delivery/fixtures.ts';
import {
  acceptInvitation,
  createInvitation,
  invitationByToken,
  listMembers,
  pendingInvitations,
  removeMember,
  setPermissions,
  signUpFromInvitation,
  TeamError,
} from '../../src/platform/services/team.ts';
import { memberServices, ServiceError, setServiceActive } from '../../src/platform/services/services.ts';
import { addGuest, GuestListError } from '../../src/notify/settings/guest-list.ts';
import {
  addSender,
  cleanLocalPart,
  cleanSmsSender,
  listSenders,
  makeDefaultSender,
  removeSender,
} from '../../src/notify/settings/senders.ts';
import { createNotifyService, serviceSettings, setRetention } from '../../src/notify/settings/service-settings.ts';
import { BrandingError, imageType, setBranding } from '../../src/notify/settings/branding.ts';
import { decideGoLive, goLiveChecklist, requestGoLive } from '../../src/notify/settings/go-live.ts';
import { setDailyLimits } from '../../src/notify/settings/daily-limits.ts';
import { allServicesWithVolumes } from '../../src/notify/settings/service-volumes.ts';
import { SettingsError } from '../../src/notify/settings/settings-error.ts';

let database: TestDatabase;
const db = () => database.db;

async function user(email: string, name = email.split('@')[0]!): Promise<string> {
  const row = await db()
    .insertInto('users')
    .values({ name, email_address: email, password_hash: 'x', state: 'active' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (
      err instanceof TeamError ||
      err instanceof ServiceError ||
      err instanceof SettingsError ||
      err instanceof GuestListError
    )
      return err.code;
    throw err;
  }
  return 'no error';
}

beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

describe('services and their teams', () => {
  it('creates a service in trial mode, 50 a day per channel, its creator a member with every permission', async () => {
    const ana = await user('ana@tbs-sct.gc.ca');
    const id = await createNotifyService(db(), {
      name: '  Passport   renewals ',
      localPart: 'Passport.Renewals',
      creatorId: ana,
      ip: null,
    });
    const s = (await serviceSettings(db(), id))!;
    expect(s).toMatchObject({
      name: 'Passport renewals',
      restricted: true,
      active: true,
      emailSenderLocalPart: 'passport.renewals',
    });
    expect(s.limits).toEqual({ email: 50, sms: 50, internationalSms: 50 });
    expect((await listMembers(db(), id))[0]!.permissions).toEqual([
      'send_messages',
      'manage_templates',
      'manage_service',
      'manage_api_keys',
      'view_activity',
    ]);
    expect((await memberServices(db(), ana)).map((x) => x.name)).toEqual(['Passport renewals']);

    expect(
      await code(
        createNotifyService(db(), { name: 'passport RENEWALS', localPart: 'other', creatorId: ana, ip: null }),
      ),
    ).toBe('name-taken');
    expect(
      await code(
        createNotifyService(db(), { name: 'Other', localPart: 'passport.renewals', creatorId: ana, ip: null }),
      ),
    ).toBe('local-part-taken');
    expect(await code(createNotifyService(db(), { name: ' ', localPart: 'x', creatorId: ana, ip: null }))).toBe(
      'name-missing',
    );
    const audit = await db().selectFrom('audit_events').select('event').where('actor_id', '=', ana).execute();
    expect(audit.map((a) => a.event)).toContain('service-created');
  });

  it('checks sending address local parts and text message senders', () => {
    expect(cleanLocalPart(' Bob.Smith ')).toBe('bob.smith');
    for (const bad of ['', 'a b', '.start', 'end.', 'a..b', 'é', 'a@b'])
      expect(() => cleanLocalPart(bad), bad).toThrow(SettingsError);
    expect(cleanSmsSender('GOVCANADA', 'CA')).toBe('GOVCANADA');
    expect(cleanSmsSender('613-555-0123', 'CA')).toBe('+16135550123');
    for (const bad of ['AB', 'TWELVECHARSX', '12345', 'GOV-CA', '911'])
      expect(() => cleanSmsSender(bad, 'CA'), bad).toThrow(SettingsError);
  });

  it('keeps someone able to manage the service: the last manager cannot lose the permission or leave', async () => {
    const lead = await user('lead@gc.ca');
    const other = await user('other@gc.ca');
    const id = await createNotifyService(db(), { name: 'Benefits', localPart: 'benefits', creatorId: lead, ip: null });
    expect(
      await code(
        setPermissions(db(), { serviceId: id, userId: lead, permissions: ['send_messages'], actorId: lead, ip: null }),
      ),
    ).toBe('last-manager');
    expect(await code(removeMember(db(), { serviceId: id, userId: lead, actorId: lead, ip: null }))).toBe(
      'last-manager',
    );
    // Nothing changed.
    expect((await listMembers(db(), id))[0]!.permissions).toContain('manage_service');

    await db()
      .insertInto('service_users')
      .values({ service_id: id, user_id: other, permissions: ['manage_service'] })
      .execute();
    await setPermissions(db(), {
      serviceId: id,
      userId: lead,
      permissions: ['send_messages', 'bogus'],
      actorId: lead,
      ip: '10.0.0.1',
    });
    expect((await listMembers(db(), id)).find((m) => m.userId === lead)!.permissions).toEqual(['send_messages']);
    expect(await code(removeMember(db(), { serviceId: id, userId: other, actorId: other, ip: null }))).toBe(
      'last-manager',
    );
    await removeMember(db(), { serviceId: id, userId: lead, actorId: other, ip: null });
    expect((await listMembers(db(), id)).map((m) => m.userId)).toEqual([other]);
    const events = await db()
      .selectFrom('audit_events')
      .select(['event', 'details'])
      .where('user_id', '=', lead)
      .where('event', '!=', 'service-created')
      .orderBy('id')
      .execute();
    expect(events.map((e) => e.event)).toEqual(['permissions-changed', 'member-removed']);
    expect(events[0]!.details).toMatchObject({ serviceId: id, after: ['send_messages'] });
  });

  it('sends single-use invitations that expire in 2 days, only for the invited address', async () => {
    const lead = await user('boss@gc.ca');
    const id = await createNotifyService(db(), {
      name: 'Invitations',
      localPart: 'invitations',
      creatorId: lead,
      ip: null,
    });
    expect(
      await code(
        createInvitation(db(), {
          serviceId: id,
          email: 'not an email',
          permissions: ['send_messages'],
          actorId: lead,
          ip: null,
        }),
      ),
    ).toBe('invalid-email');
    expect(
      await code(
        createInvitation(db(), { serviceId: id, email: 'x@gc.ca', permissions: ['nothing'], actorId: lead, ip: null }),
      ),
    ).toBe('no-permissions');
    expect(
      await code(
        createInvitation(db(), {
          serviceId: id,
          email: 'BOSS@gc.ca',
          permissions: ['send_messages'],
          actorId: lead,
          ip: null,
        }),
      ),
    ).toBe('already-member');

    const now = new Date();
    const first = await createInvitation(db(), {
      serviceId: id,
      email: 'sam@gc.ca',
      permissions: ['send_messages'],
      actorId: lead,
      ip: null,
      now,
    });
    expect(first.invitation.expiresAt.getTime() - now.getTime()).toBe(2 * 86_400_000);
    // The token is stored hashed.
    const stored = await db()
      .selectFrom('invitations')
      .select('token_hash')
      .where('id', '=', first.invitation.id)
      .executeTakeFirstOrThrow();
    expect(stored.token_hash).not.toContain(first.token);
    // Inviting again replaces the first link.
    const second = await createInvitation(db(), {
      serviceId: id,
      email: 'Sam@gc.ca',
      permissions: ['send_messages', 'view_activity'],
      actorId: lead,
      ip: null,
    });
    expect(await invitationByToken(db(), first.token)).toBeNull();
    expect((await pendingInvitations(db(), id)).map((i) => i.email)).toEqual(['Sam@gc.ca']);
    // Expired after 2 days.
    expect(await invitationByToken(db(), second.token, new Date(Date.now() + 2 * 86_400_000 + 1000))).toBeNull();

    const sam = await user('sam@gc.ca');
    const eve = await user('eve@gc.ca');
    expect(
      await code(acceptInvitation(db(), { token: second.token, userId: eve, userEmail: 'eve@gc.ca', ip: null })),
    ).toBe('wrong-account');
    await acceptInvitation(db(), { token: second.token, userId: sam, userEmail: 'SAM@gc.ca', ip: null });
    expect((await listMembers(db(), id)).find((m) => m.userId === sam)!.permissions).toEqual([
      'send_messages',
      'view_activity',
    ]);
    expect(
      await code(acceptInvitation(db(), { token: second.token, userId: sam, userEmail: 'sam@gc.ca', ip: null })),
    ).toBe('invitation-invalid');
  });

  it('lets someone invited create an account from the link, whatever their domain', async () => {
    const lead = await user('chief@gc.ca');
    const id = await createNotifyService(db(), { name: 'Outside', localPart: 'outside', creatorId: lead, ip: null });
    const { token } = await createInvitation(db(), {
      serviceId: id,
      email: 'pat@example.com',
      permissions: ['view_activity'],
      actorId: lead,
      ip: null,
    });
    const weak = await code(
      signUpFromInvitation(db(), { token, name: 'Pat', password: 'password', language: 'fr', ip: null }),
    );
    expect(weak).toBe('password');
    const { userId } = await signUpFromInvitation(db(), {
      token,
      name: 'Pat',
      password: 'a long and unusual passphrase',
      language: 'fr',
      ip: null,
    });
    const row = await db()
      .selectFrom('users')
      .select(['state', 'email_confirmed_at', 'language', 'password_hash'])
      .where('id', '=', userId)
      .executeTakeFirstOrThrow();
    expect(row.state).toBe('active');
    expect(row.email_confirmed_at).not.toBeNull();
    expect(row.language).toBe('fr');
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
    expect((await listMembers(db(), id)).find((m) => m.userId === userId)!.permissions).toEqual(['view_activity']);
    expect(
      await code(
        signUpFromInvitation(db(), {
          token,
          name: 'Pat',
          password: 'a long and unusual passphrase',
          language: 'fr',
          ip: null,
        }),
      ),
    ).toBe('invitation-invalid');
  });

  it('keeps a guest list of valid, normalised addresses and numbers', async () => {
    const lead = await user('guests@gc.ca');
    const id = await createNotifyService(db(), { name: 'Guests', localPart: 'guests', creatorId: lead, ip: null });
    expect(
      await addGuest(db(), { serviceId: id, recipient: ' Someone@Example.GC.ca ', phoneRegion: 'CA' }),
    ).toMatchObject({ type: 'email', recipient: 'someone@example.gc.ca' });
    expect(await addGuest(db(), { serviceId: id, recipient: '(613) 555-0123', phoneRegion: 'CA' })).toMatchObject({
      type: 'sms',
      recipient: '+16135550123',
    });
    expect(await code(addGuest(db(), { serviceId: id, recipient: '613.555.0123', phoneRegion: 'CA' }))).toBe(
      'already-on-guest-list',
    );
    expect(await code(addGuest(db(), { serviceId: id, recipient: 'nobody@', phoneRegion: 'CA' }))).toBe(
      'invalid-recipient',
    );
    expect(await code(addGuest(db(), { serviceId: id, recipient: '12', phoneRegion: 'CA' }))).toBe('invalid-recipient');
  });
});

describe('settings', () => {
  it('keeps exactly one default reply-to address, and removes the default only when it is the last', async () => {
    const lead = await user('senders@gc.ca');
    const id = await createNotifyService(db(), { name: 'Senders', localPart: 'senders', creatorId: lead, ip: null });
    const a = await addSender(db(), 'email_reply_to', id, { value: 'a@gc.ca', makeDefault: false, phoneRegion: 'CA' });
    expect(a.isDefault).toBe(true);
    const b = await addSender(db(), 'email_reply_to', id, { value: 'b@gc.ca', makeDefault: false, phoneRegion: 'CA' });
    expect(b.isDefault).toBe(false);
    expect(
      await code(addSender(db(), 'email_reply_to', id, { value: 'A@gc.ca', makeDefault: false, phoneRegion: 'CA' })),
    ).toBe('reply-to-exists');
    expect(
      await code(addSender(db(), 'email_reply_to', id, { value: 'a@', makeDefault: false, phoneRegion: 'CA' })),
    ).toBe('reply-to-invalid');
    expect(await code(removeSender(db(), 'email_reply_to', id, a.id))).toBe('default-sender');
    await makeDefaultSender(db(), 'email_reply_to', id, b.id);
    await removeSender(db(), 'email_reply_to', id, a.id);
    expect(await listSenders(db(), 'email_reply_to', id)).toEqual([{ id: b.id, value: 'b@gc.ca', isDefault: true }]);
    // Adding a removed address again brings it back.
    const again = await addSender(db(), 'email_reply_to', id, {
      value: 'a@gc.ca',
      makeDefault: true,
      phoneRegion: 'CA',
    });
    expect(again.id).toBe(a.id);
    expect((await listSenders(db(), 'email_reply_to', id)).filter((s) => s.isDefault).map((s) => s.value)).toEqual([
      'a@gc.ca',
    ]);
  });

  it('keeps data 3 to 90 days', async () => {
    const lead = await user('retention@gc.ca');
    const id = await createNotifyService(db(), {
      name: 'Retention',
      localPart: 'retention',
      creatorId: lead,
      ip: null,
    });
    for (const bad of ['2', '91', 'seven', '7.5', ''])
      expect(await code(setRetention(db(), id, bad)), bad).toBe('retention-invalid');
    await setRetention(db(), id, ' 30 ');
    expect((await serviceSettings(db(), id))!.dataRetentionDays).toBe(30);
  });

  it('takes a PNG or JPEG logo, told by its bytes, with alt text in both languages', async () => {
    const lead = await user('brand@gc.ca');
    const id = await createNotifyService(db(), { name: 'Brand', localPart: 'brand', creatorId: lead, ip: null });
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
    expect(imageType(png)).toBe('image/png');
    expect(imageType(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('image/jpeg');
    expect(imageType(new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeNull();

    const problems = async (input: Parameters<typeof setBranding>[2]) => {
      try {
        await setBranding(db(), id, input);
        return [];
      } catch (err) {
        if (err instanceof BrandingError) return err.codes;
        throw err;
      }
    };
    expect(await problems({ branding: 'logo', logo: null, altEn: '', altFr: '' })).toEqual([
      'logo-missing',
      'alt-en-missing',
      'alt-fr-missing',
    ]);
    expect(
      await problems({ branding: 'logo', logo: { bytes: new TextEncoder().encode('<svg/>') }, altEn: 'A', altFr: 'B' }),
    ).toEqual(['logo-type']);
    expect(
      await problems({ branding: 'logo', logo: { bytes: new Uint8Array(600 * 1024) }, altEn: 'A', altFr: 'B' }),
    ).toEqual(['logo-too-big']);
    expect(await problems({ branding: 'logo', logo: { bytes: png }, altEn: 'Brand', altFr: 'Marque' })).toEqual([]);
    const s = (await serviceSettings(db(), id))!;
    expect(s.branding).toBe('logo');
    expect(s.logo).toEqual({ contentType: 'image/png', altEn: 'Brand', altFr: 'Marque', size: png.length });
    // Without a new file the stored logo stays.
    expect(await problems({ branding: 'logo', logo: null, altEn: 'Brand 2', altFr: 'Marque 2' })).toEqual([]);
    expect((await serviceSettings(db(), id))!.logo?.altEn).toBe('Brand 2');
  });
});

describe('going live and suspension', () => {
  it('asks to go live only with the checklist complete, and approval makes the service live with higher limits', async () => {
    const lead = await user('live@gc.ca');
    const admin = await user('platform@gc.ca');
    const id = await createNotifyService(db(), {
      name: 'Going live',
      localPart: 'going.live',
      creatorId: lead,
      ip: null,
    });
    const ask = () =>
      requestGoLive(db(), {
        serviceId: id,
        userId: lead,
        mainUse: 'Reminders',
        expectedDailyEmail: '1,000',
        expectedDailySms: '0',
        ip: null,
      });
    expect(await goLiveChecklist(db(), id)).toMatchObject({
      managers: 1,
      hasManagers: false,
      hasTemplates: false,
      ready: false,
    });
    expect(await code(ask())).toBe('not-ready');

    const second = await user('second@gc.ca');
    await db()
      .insertInto('service_users')
      .values({ service_id: id, user_id: second, permissions: ['manage_service'] })
      .execute();
    await createTemplate(db(), id, { type: 'email', subject: 'Hello', content: 'Hi' });
    expect(await goLiveChecklist(db(), id)).toMatchObject({
      hasManagers: true,
      hasTemplates: true,
      needsReplyTo: true,
      hasReplyTo: false,
      ready: false,
    });
    await addSender(db(), 'email_reply_to', id, { value: 'reply@gc.ca', makeDefault: true, phoneRegion: 'CA' });
    expect((await goLiveChecklist(db(), id)).ready).toBe(true);

    const request = await ask();
    expect(request).toMatchObject({
      state: 'pending',
      expectedDailyEmail: 1000,
      expectedDailySms: 0,
      mainUse: 'Reminders',
    });
    expect(await code(ask())).toBe('already-requested');

    expect(
      await code(decideGoLive(db(), { requestId: request.id, approve: false, reason: ' ', actorId: admin, ip: null })),
    ).toBe('reason-missing');
    const decided = await decideGoLive(db(), {
      requestId: request.id,
      approve: true,
      reason: '',
      actorId: admin,
      ip: null,
    });
    expect(decided).toMatchObject({ state: 'approved', requestedBy: { email: 'live@gc.ca' } });
    const s = (await serviceSettings(db(), id))!;
    expect(s.restricted).toBe(false);
    expect(s.limits).toMatchObject({ email: 10_000, sms: 1_500 });
    // A decision is taken once.
    expect(
      await decideGoLive(db(), { requestId: request.id, approve: false, reason: 'late', actorId: admin, ip: null }),
    ).toBeNull();
    expect(await code(ask())).toBe('already-live');
  });

  it('suspends and restores a service, and lists every service with its 7-day volumes', async () => {
    const lead = await user('suspend@gc.ca');
    const admin = await user('admin2@gc.ca');
    const id = await createNotifyService(db(), {
      name: 'Suspended one',
      localPart: 'suspended.one',
      creatorId: lead,
      ip: null,
    });
    const t = await createTemplate(db(), id, { type: 'sms', content: 'Hi' });
    for (const [key, days] of [
      ['normal', 0],
      ['normal', 3],
      ['test', 0],
      ['normal', 10],
    ] as const) {
      await sql`INSERT INTO notifications (id, service_id, template_id, template_version, key_type, notification_type, "to", normalised_to, body, created_at)
        VALUES (gen_random_uuid(), ${id}, ${t.id}, 1, ${key}, 'sms', '+16135550123', '+16135550123', 'Hi', now() - make_interval(days => ${days}))`.execute(
        db(),
      );
    }
    expect(await setServiceActive(db(), { serviceId: id, active: false, actorId: admin, ip: null })).toBe(true);
    expect(await setServiceActive(db(), { serviceId: id, active: false, actorId: admin, ip: null })).toBe(false);
    const listed = (await allServicesWithVolumes(db())).find((s) => s.id === id)!;
    expect(listed).toMatchObject({ active: false, restricted: true, sms: 2, email: 0 });
    expect((await serviceSettings(db(), id))!.suspendedAt).not.toBeNull();
    await setServiceActive(db(), { serviceId: id, active: true, actorId: admin, ip: null });
    expect((await serviceSettings(db(), id))!).toMatchObject({ active: true, suspendedAt: null });
    expect(
      await code(
        setDailyLimits(db(), {
          serviceId: id,
          email: '1 000',
          sms: 'lots',
          internationalSms: '0',
          actorId: admin,
          ip: null,
        }),
      ),
    ).toBe('limit-invalid');
    await setDailyLimits(db(), {
      serviceId: id,
      email: '20,000',
      sms: '2000',
      internationalSms: '0',
      actorId: admin,
      ip: null,
    });
    expect((await serviceSettings(db(), id))!.limits).toEqual({ email: 20_000, sms: 2_000, internationalSms: 0 });
    const events = await db()
      .selectFrom('audit_events')
      .select('event')
      .where('actor_id', '=', admin)
      .orderBy('id')
      .execute();
    expect(events.map((e) => e.event)).toEqual(['service-suspended', 'service-restored', 'service-limits-changed']);
  });
});
