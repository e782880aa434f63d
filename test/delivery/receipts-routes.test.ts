/**
 * Receipt hooks end to end: SNS posts signed with the fixture key (test/fixtures/sns) to a running Envoi move
 * notifications, fill the suppression list and complaints, queue callbacks and store inbound texts; the
 * suppression list is then read and cleared through the v2 API.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/platform/config.ts';
import { createApp, createServices } from '../../src/app.ts';
import { applyBootstrap } from '../../src/notify/provisioning/apply-bootstrap.ts';
import { checkBootstrapFile, type BootstrapResult } from '../../src/notify/provisioning/bootstrap-file.ts';
import { SecretBox } from '../../src/platform/secret-box.ts';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';
import { TEST_SECRET_KEY } from '../support/envoi.ts';
import { call } from '../api/helpers.ts';
import { fixture, LIVE_ID, OTHER_ID } from '../api/fixture.ts';
import { createTemplate, insertNotifications, notification, type TemplateRef } from './fixtures.ts';
import { startSnsPeer, type SnsPeer } from '../fixtures/sns/sns-peer.ts';

let peer: SnsPeer;
let database: TestDatabase;
let app: FastifyInstance;
let url: string;
let provisioned: BootstrapResult;
let emailTemplate: TemplateRef;
let smsTemplate: TemplateRef;

/** The running app as test/support/envoi.ts builds it, with an SNS verifier that trusts the test CA. */
beforeAll(async () => {
  peer = await startSnsPeer();
  database = await openTestDatabase();
  const config = loadConfig({
    PORT: '0',
    ENVOI_SECRET_KEY: TEST_SECRET_KEY,
    LOG_LEVEL: 'silent',
    ...(database.url ? { DATABASE_URL: database.url } : {}),
  });
  const services = createServices(config, database, TEST_SECRET_KEY);
  services.snsVerifier = peer.verifier();
  app = await createApp(services);
  url = await app.listen({ port: 0, host: '127.0.0.1' });
  provisioned = await applyBootstrap(
    database.db,
    new SecretBox(TEST_SECRET_KEY),
    checkBootstrapFile(fixture(), config.phoneRegion),
    config,
  );
  emailTemplate = await createTemplate(database.db, LIVE_ID, { type: 'email', subject: 'Hi', content: 'Hello' });
  smsTemplate = await createTemplate(database.db, LIVE_ID, { type: 'sms', content: 'Hello' });
  for (const type of ['delivery_status', 'complaint', 'inbound_sms'] as const) {
    await database.db
      .insertInto('service_callbacks')
      .values({
        service_id: LIVE_ID,
        callback_type: type,
        url: 'https://callbacks.example/hook',
        bearer_token_sealed: 'sealed',
      })
      .execute();
  }
}, 60_000);

afterAll(async () => {
  await app?.close();
  await database?.close();
  await peer?.close();
});

const liveKey = () => provisioned.services.find((s) => s.id === LIVE_ID)!.api_keys.live!;
const otherKey = () => provisioned.services.find((s) => s.id === OTHER_ID)!.api_keys.other!;

/** A notification as the worker leaves it once a provider took it. */
async function sent(type: 'email' | 'sms', to: string, status = 'sending') {
  const [id] = await insertNotifications(database.db, [
    { serviceId: LIVE_ID, template: type === 'email' ? emailTemplate : smsTemplate, type, to, body: 'Hello' },
  ]);
  const reference = randomUUID();
  await sql`UPDATE notifications SET status = ${status}, provider = ${type === 'email' ? 'ses' : 'aws-sms'},
    provider_reference = ${reference}, sent_at = now() WHERE id = ${id}`.execute(database.db);
  return { id: id!, reference };
}

/** POSTs an SNS message as SNS does: JSON in a text/plain body. */
function post(path: string, body: unknown) {
  return call(url, 'POST', path, {
    raw: typeof body === 'string' ? body : JSON.stringify(body),
    contentType: 'text/plain; charset=UTF-8',
  });
}

function sesEvent(eventType: string, messageId: string, extra: Record<string, unknown> = {}) {
  return {
    eventType,
    mail: {
      timestamp: '2026-01-02T03:04:05.000Z',
      messageId,
      source: 'x@notify.example',
      destination: ['a@example.com'],
    },
    ...extra,
  };
}

function smsEvent(eventType: string, messageId: string, extra: Record<string, unknown> = {}) {
  return {
    eventType,
    eventVersion: '1.0',
    eventTimestamp: Date.parse('2026-01-02T03:04:05.000Z'),
    isFinal: true,
    originationPhoneNumber: '+16135550100',
    destinationPhoneNumber: '+16135550111',
    messageId,
    messageStatus: eventType.replace('TEXT_', ''),
    messageStatusDescription: 'Message has been accepted by phone carrier',
    ...extra,
  };
}

async function callbackTypes(subjectId: string) {
  const rows = await database.db
    .selectFrom('callback_deliveries')
    .select(['callback_type', 'status'])
    .where('subject_id', '=', subjectId)
    .execute();
  return rows.map((r) => (r.status ? `${r.callback_type}:${r.status}` : r.callback_type));
}

describe('POST /providers/ses', () => {
  it('marks a delivered email delivered, at the event time, and queues its callback', async () => {
    const n = await sent('email', 'reader@example.com');
    const res = await post(
      '/providers/ses',
      peer.message({
        message: sesEvent('Delivery', n.reference, {
          delivery: {
            timestamp: '2026-01-02T03:04:06.000Z',
            smtpResponse: '250 2.0.0 OK',
            recipients: ['reader@example.com'],
          },
        }),
      }),
    );
    expect(res.status).toBe(200);
    const row = await notification(database.db, n.id);
    expect(row).toMatchObject({ status: 'delivered', provider_response: '250 2.0.0 OK' });
    expect(row.updated_at?.toISOString()).toBe('2026-01-02T03:04:06.000Z');
    expect(await callbackTypes(n.id)).toEqual(['delivery_status:delivered']);
  });

  it('turns a permanent bounce into permanent-failure and suppresses the address; a soft bounce is temporary', async () => {
    const hard = await sent('email', 'Gone@Example.com', 'delivered');
    const soft = await sent('email', 'full@example.com');
    const bounce = (bounceType: string, bounceSubType: string) => ({
      bounce: {
        bounceType,
        bounceSubType,
        timestamp: '2026-01-02T03:05:00.000Z',
        bouncedRecipients: [{ emailAddress: 'x' }],
      },
    });
    expect(
      (
        await post(
          '/providers/ses',
          peer.message({ message: sesEvent('Bounce', hard.reference, bounce('Permanent', 'NoEmail')), version: '1' }),
        )
      ).status,
    ).toBe(200);
    // The older identity-notification form says notificationType.
    const older = {
      notificationType: 'Bounce',
      mail: { messageId: soft.reference },
      ...bounce('Transient', 'MailboxFull'),
    };
    expect((await post('/providers/ses', peer.message({ message: older }))).status).toBe(200);
    expect(await notification(database.db, hard.id)).toMatchObject({
      status: 'permanent-failure',
      provider_response: 'Hard bounce: the address does not exist',
    });
    expect(await notification(database.db, soft.id)).toMatchObject({
      status: 'temporary-failure',
      provider_response: 'Soft bounce: the inbox is full',
    });
    const suppressions = await database.db
      .selectFrom('suppressions')
      .selectAll()
      .where('service_id', '=', LIVE_ID)
      .where('recipient', '=', 'gone@example.com')
      .execute();
    expect(suppressions).toMatchObject([{ channel: 'email', reason: 'hard-bounce', notification_id: hard.id }]);
  });

  it('records a complaint with its callback and suppression; a Reject is a technical failure', async () => {
    const complained = await sent('email', 'angry@example.com', 'delivered');
    const rejected = await sent('email', 'virus@example.com');
    const complaint = {
      complaint: {
        timestamp: '2026-01-02T04:00:00.000Z',
        complaintFeedbackType: 'abuse',
        complainedRecipients: [{ emailAddress: 'angry@example.com' }],
      },
    };
    expect(
      (await post('/providers/ses', peer.message({ message: sesEvent('Complaint', complained.reference, complaint) })))
        .status,
    ).toBe(200);
    expect(
      (
        await post(
          '/providers/ses',
          peer.message({ message: sesEvent('Reject', rejected.reference, { reject: { reason: 'Bad content' } }) }),
        )
      ).status,
    ).toBe(200);
    expect((await notification(database.db, complained.id)).status).toBe('delivered');
    const [row] = await database.db
      .selectFrom('complaints')
      .selectAll()
      .where('notification_id', '=', complained.id)
      .execute();
    expect(row).toMatchObject({ service_id: LIVE_ID, complaint_type: 'abuse' });
    expect(await callbackTypes(row!.id)).toEqual(['complaint']);
    const suppression = await database.db
      .selectFrom('suppressions')
      .select('reason')
      .where('notification_id', '=', complained.id)
      .executeTakeFirst();
    expect(suppression?.reason).toBe('complaint');
    expect(await notification(database.db, rejected.id)).toMatchObject({
      status: 'technical-failure',
      provider_response: 'Rejected by SES: Bad content',
    });
  });

  it('answers 200 for receipts of unknown or final notifications, and for events that change nothing', async () => {
    const final = await sent('email', 'done@example.com', 'permanent-failure');
    for (const event of [
      sesEvent('Delivery', 'no-such-message', { delivery: { timestamp: '2026-01-02T03:04:06.000Z' } }),
      sesEvent('Delivery', final.reference, { delivery: {} }),
      sesEvent('Open', final.reference, { open: {} }),
    ]) {
      expect((await post('/providers/ses', peer.message({ message: event }))).status).toBe(200);
    }
    expect((await notification(database.db, final.id)).status).toBe('permanent-failure');
  });

  it('asks SNS to deliver again a fresh receipt that beat its notification, and applies it when it comes back', async () => {
    // The provider answered and sent its event before the worker committed the provider reference.
    const n = await sent('email', 'early@example.com');
    const early = randomUUID();
    const event = sesEvent('Delivery', early, { delivery: { timestamp: new Date().toISOString() } });
    const first = await post('/providers/ses', peer.message({ message: event }));
    expect(first.status).toBe(503);
    expect(first.body).toEqual({
      result: 'error',
      message: '1 receipt(s) for a notification not found yet; deliver again later',
    });
    await sql`UPDATE notifications SET provider_reference = ${early} WHERE id = ${n.id}`.execute(database.db);
    // SNS delivers it again (the in-memory retry may have applied it already: then it changes nothing).
    const again = await post('/providers/ses', peer.message({ message: event }));
    expect(again.status).toBe(200);
    expect((await notification(database.db, n.id)).status).toBe('delivered');
  });

  it('refuses bad signatures with 403 and malformed bodies with 400, never 500', async () => {
    const n = await sent('email', 'target@example.com');
    const forged = {
      ...peer.message({ message: sesEvent('Delivery', 'x', { delivery: {} }) }),
      Message: JSON.stringify(sesEvent('Delivery', n.reference, { delivery: {} })),
    };
    const bad = await post('/providers/ses', forged);
    expect(bad.status).toBe(403);
    expect(bad.body).toMatchObject({ result: 'error', message: 'the SNS signature does not match the message' });
    expect((await notification(database.db, n.id)).status).toBe('sending');

    const elsewhere = { ...peer.message({ message: 'x' }), SigningCertURL: 'https://evil.example/cert.pem' };
    expect((await post('/providers/ses', elsewhere)).status).toBe(403);
    for (const body of [
      '',
      'not json',
      '[]',
      '{"Type":"Notification"}',
      JSON.stringify({ ...peer.message({ message: 'x' }), SignatureVersion: '9' }),
    ]) {
      const res = await post('/providers/ses', body);
      expect(res.status, body).toBe(400);
      expect(res.body.result).toBe('error');
    }
    // Signed, but its payload is not an SES event.
    for (const message of ['not json', { hello: 'world' }, { eventType: 'Bounce', mail: { messageId: 'm' } }]) {
      expect((await post('/providers/ses', peer.message({ message }))).status).toBe(400);
    }
    const noContentType = await fetch(`${url}/providers/ses`, { method: 'POST' });
    expect(noContentType.status).toBe(400);
  });

  it('confirms SNS subscriptions and notes unsubscriptions', async () => {
    const before = peer.requests.length;
    const res = await post(
      '/providers/ses',
      peer.message({ type: 'SubscriptionConfirmation', message: 'You have chosen to subscribe' }),
    );
    expect(res.status).toBe(200);
    expect(peer.requests.slice(before).some((r) => r.startsWith('/?Action=ConfirmSubscription'))).toBe(true);
    expect(
      (await post('/providers/aws-sms', peer.message({ type: 'UnsubscribeConfirmation', message: 'bye' }))).status,
    ).toBe(200);
  });
});

describe('POST /providers/aws-sms', () => {
  it('maps End User Messaging events: delivered, carrier-accepted (pending), opted out (suppressed)', async () => {
    const delivered = await sent('sms', '+16135550111');
    const accepted = await sent('sms', '+16135550112');
    const optedOut = await sent('sms', '+16135550113');
    const unreachable = await sent('sms', '+16135550114');
    const events = [
      smsEvent('TEXT_DELIVERED', delivered.reference),
      smsEvent('TEXT_SUCCESSFUL', accepted.reference, { isFinal: false }),
      smsEvent('TEXT_BLOCKED', optedOut.reference, {
        messageStatus: 'OPTED_OUT',
        messageStatusDescription: 'Destination phone number is opted out',
      }),
      smsEvent('TEXT_CARRIER_UNREACHABLE', unreachable.reference, {
        messageStatusDescription: 'Phone carrier is currently unreachable',
      }),
    ];
    for (const event of events)
      expect((await post('/providers/aws-sms', peer.message({ message: event }))).status).toBe(200);
    expect((await notification(database.db, delivered.id)).status).toBe('delivered');
    expect((await notification(database.db, accepted.id)).status).toBe('pending');
    expect((await notification(database.db, optedOut.id)).status).toBe('permanent-failure');
    expect(await notification(database.db, unreachable.id)).toMatchObject({
      status: 'temporary-failure',
      provider_response: 'Phone carrier is currently unreachable',
    });
    const suppression = await database.db
      .selectFrom('suppressions')
      .selectAll()
      .where('notification_id', '=', optedOut.id)
      .executeTakeFirst();
    expect(suppression).toMatchObject({ channel: 'sms', recipient: '+16135550113', reason: 'opted-out' });
    expect(await callbackTypes(accepted.id)).toEqual([]);
  });

  it('stores two-way SMS replies for the service that owns the number and queues its inbound callback', async () => {
    const inbound = {
      originationNumber: '+16135550199',
      destinationNumber: '+16135550100',
      messageKeyword: 'KEYWORD_111122223333',
      messageBody: 'Yes please',
      inboundMessageId: randomUUID(),
    };
    expect((await post('/providers/aws-sms/inbound', peer.message({ message: inbound }))).status).toBe(200);
    const res = await call(url, 'GET', '/v2/received-text-messages', { key: liveKey() });
    const text = res.body.received_text_messages.find((t: { content: string }) => t.content === 'Yes please');
    expect(text).toMatchObject({ user_number: '+16135550199', notify_number: '+16135550100' });
    expect(await callbackTypes(text.id)).toEqual(['inbound_sms']);
    // SNS delivers at least once: the same inboundMessageId in another SNS message is the same text.
    expect((await post('/providers/aws-sms/inbound', peer.message({ message: inbound }))).status).toBe(200);
    const stored = await database.db
      .selectFrom('received_texts')
      .select('id')
      .where('content', '=', 'Yes please')
      .execute();
    expect(stored).toEqual([{ id: text.id }]);
    expect(await callbackTypes(text.id)).toEqual(['inbound_sms']);
    expect(
      (await post('/providers/aws-sms/inbound', peer.message({ message: { messageBody: 'no numbers' } }))).status,
    ).toBe(400);
  });
});

describe('/v2/suppressions', () => {
  it('lists the service suppressions, filtered by channel, and clears one', async () => {
    const n = await sent('email', 'Listed@Example.com');
    await post(
      '/providers/ses',
      peer.message({
        message: sesEvent('Bounce', n.reference, { bounce: { bounceType: 'Permanent', bounceSubType: 'General' } }),
      }),
    );

    const all = await call(url, 'GET', '/v2/suppressions', { key: liveKey() });
    expect(all.status).toBe(200);
    const entry = all.body.suppressions.find((s: { recipient: string }) => s.recipient === 'listed@example.com');
    expect(entry).toMatchObject({ channel: 'email', reason: 'hard-bounce', notification_id: n.id });
    expect(entry.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(all.body.links.current).toBe(`${url}/v2/suppressions`);

    const sms = await call(url, 'GET', '/v2/suppressions?channel=sms', { key: liveKey() });
    expect(sms.body.suppressions.every((s: { channel: string }) => s.channel === 'sms')).toBe(true);
    expect((await call(url, 'GET', '/v2/suppressions?channel=fax', { key: liveKey() })).status).toBe(400);

    // Another service sees none of it and cannot clear it.
    expect((await call(url, 'GET', '/v2/suppressions', { key: otherKey() })).body.suppressions).toEqual([]);
    expect((await call(url, 'DELETE', '/v2/suppressions/email/listed@example.com', { key: otherKey() })).status).toBe(
      404,
    );
    expect((await call(url, 'DELETE', '/v2/suppressions/email/listed@example.com')).status).toBe(401);

    // The address as the client typed it is found in its normalised form.
    const cleared = await call(url, 'DELETE', '/v2/suppressions/email/LISTED@example.com', { key: liveKey() });
    expect(cleared.status).toBe(200);
    expect(cleared.body.suppression).toMatchObject({ recipient: 'listed@example.com', reason: 'hard-bounce' });
    const again = await call(url, 'DELETE', '/v2/suppressions/email/listed@example.com', { key: liveKey() });
    expect(again.status).toBe(404);
    expect(again.body).toEqual({ status_code: 404, errors: [{ error: 'NoResultFound', message: 'No result found' }] });
    expect((await call(url, 'DELETE', '/v2/suppressions/fax/x', { key: liveKey() })).status).toBe(400);
  });

  it('pages with older_than', async () => {
    const rows = Array.from({ length: 260 }, (_, i) => ({
      service_id: LIVE_ID,
      channel: 'sms' as const,
      recipient: `+1613555${String(2000 + i)}`,
      reason: 'manual' as const,
      created_at: new Date(Date.UTC(2025, 0, 1, 0, 0, i)),
    }));
    await database.db.insertInto('suppressions').values(rows).execute();
    const first = await call(url, 'GET', '/v2/suppressions?channel=sms', { key: liveKey() });
    expect(first.body.suppressions).toHaveLength(250);
    const next = first.body.links.next as string;
    expect(next).toContain('older_than=sms%3A');
    const second = await call(url, 'GET', next.slice(url.length), { key: liveKey() });
    expect(second.status).toBe(200);
    const seen = [...first.body.suppressions, ...second.body.suppressions].map(
      (s: { recipient: string }) => s.recipient,
    );
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((r) => rows.some((row) => row.recipient === r))).toHaveLength(260);
  });
});
