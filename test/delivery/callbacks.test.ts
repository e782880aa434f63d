/**
 * Callbacks to services, sent to real HTTP receivers on this machine: what a receiver gets (body, headers, a
 * signature it can check), retries, 410 Gone, redirects, slow receivers, and the addresses Envoi refuses to reach.
 * Rows are queued as the rest of Envoi queues them: by queue.ts inside the statement that changes a status.
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { Webhook } from 'standardwebhooks';
import type { Config } from '../../src/platform/config.ts';
import type { Db } from '../../src/platform/database/connection.ts';
import type { CallbackType } from '../../src/notify/vocabulary.ts';
import {
  callbackRetryDelayMs,
  startCallbackSender,
  type CallbackSender,
} from '../../src/notify/delivery/callbacks/sender.ts';
import { queueComplaintCallbacks, queueStatusCallbacks } from '../../src/notify/repositories/callback-deliveries.ts';
import { storeInboundTexts } from '../../src/notify/delivery/receipts/inbound.ts';
import { setCallback } from '../../src/notify/settings/callback-settings.ts';
import { SecretBox } from '../../src/platform/secret-box.ts';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';
import {
  createService,
  createTemplate,
  insertNotification,
  testConfig,
  waitFor,
  type TemplateRef,
} from './fixtures.ts';

const secrets = new SecretBox('callbacks-test-secret-key-0123456789');
const TOKEN = 'receiver-token-1234';

let tdb: TestDatabase;
let db: Db;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  tdb = await openTestDatabase();
  db = tdb.db;
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

afterAll(async () => {
  await tdb?.close();
});

// ---- a real receiver ------------------------------------------------------------------------------------------

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

type Answer = { status: number; body?: string; headers?: Record<string, string> } | 'hang';

interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** Requests the receiver is holding open ('hang'). */
  open: number;
  /** Answers every held request with 200 and stops holding new ones. */
  release(): void;
}

async function startReceiver(
  answer: (req: Received, n: number) => Answer = () => ({ status: 200 }),
): Promise<Receiver> {
  const held: http.ServerResponse[] = [];
  let releasing = false;
  const receiver: Receiver = {
    url: '',
    port: 0,
    received: [],
    open: 0,
    release() {
      releasing = true;
      for (const res of held.splice(0)) res.writeHead(200).end('ok');
      receiver.open = 0;
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      receiver.received.push(r);
      const a = releasing ? { status: 200 } : answer(r, receiver.received.length);
      if (a === 'hang') {
        held.push(res);
        receiver.open += 1;
        res.on('close', () => {
          const i = held.indexOf(res);
          if (i !== -1) {
            held.splice(i, 1);
            receiver.open -= 1;
          }
        });
        return;
      }
      res.writeHead(a.status, { 'content-type': 'text/plain', ...a.headers }).end(a.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://127.0.0.1:${receiver.port}/callback`;
  cleanups.push(async () => {
    receiver.release();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return receiver;
}

// ---- Envoi's side -----------------------------------------------------------------------------------------------

function config(env: Record<string, string> = {}): Config {
  return testConfig({ CALLBACK_ALLOWED_HOSTS: '127.0.0.1,localhost', ...env });
}

function startSender(cfg: Config, opts: { retryDelayMs?: (attempts: number) => number } = {}): CallbackSender {
  const sender = startCallbackSender({ db, config: cfg, secrets, retryDelayMs: opts.retryDelayMs });
  cleanups.push(() => sender.stop());
  return sender;
}

interface ServiceFixture {
  id: string;
  template: TemplateRef;
  webhookSecret: string;
}

async function serviceWithCallback(
  url: string,
  type: CallbackType = 'delivery_status',
  cfg: Config = config(),
): Promise<ServiceFixture> {
  const id = await createService(db);
  const template = await createTemplate(db, id, { type: 'email', subject: 'Hi', content: 'Hello' });
  const { webhookSecret } = await setCallback(
    db,
    secrets,
    id,
    type,
    { url, bearerToken: TOKEN },
    { allowedHosts: cfg.callbacks.allowedHosts },
  );
  return { id, template, webhookSecret };
}

async function sendEmail(service: ServiceFixture, opts: { reference?: string } = {}): Promise<string> {
  const id = await insertNotification(db, {
    serviceId: service.id,
    template: service.template,
    type: 'email',
    to: 'Someone@Example.com',
    body: 'Hello',
  });
  await db
    .updateTable('notifications')
    .set({ client_reference: opts.reference ?? null, status: 'sending', sent_at: new Date() })
    .where('id', '=', id)
    .execute();
  return id;
}

/** A receipt as the receipts code applies it: the status change and its callback in one statement. */
async function changeStatus(
  notificationId: string,
  status: string,
  providerResponse: string | null = null,
): Promise<void> {
  await sql`
    WITH changed AS (
      UPDATE notifications SET status = ${status}, provider_response = ${providerResponse}, updated_at = now()
      WHERE id = ${notificationId}
      RETURNING id, service_id, status, provider_response, updated_at
    ),
    queued AS (${queueStatusCallbacks('changed')})
    SELECT count(*) FROM changed`.execute(db);
}

async function deliveries(serviceId: string) {
  return db
    .selectFrom('callback_deliveries')
    .selectAll()
    .where('service_id', '=', serviceId)
    .orderBy('created_at')
    .execute();
}

async function waitForState(serviceId: string, state: string, count = 1) {
  return waitFor(async () => {
    const rows = (await deliveries(serviceId)).filter((r) => r.state === state);
    return rows.length >= count ? rows : undefined;
  }, `${count} callback(s) of service ${serviceId} to be ${state}`);
}

/** The receiver's own check, written from the specification: HMAC-SHA256 of "id.timestamp.body" under the secret. */
function signatureIsValid(r: Received, secret: string): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const signed = `${r.headers['webhook-id']}.${r.headers['webhook-timestamp']}.${r.body}`;
  const expected = createHmac('sha256', key).update(signed).digest('base64');
  const given = String(r.headers['webhook-signature']).split(' ');
  return given.includes(`v1,${expected}`);
}

const NOTIFY_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

// ---- tests ------------------------------------------------------------------------------------------------------

describe('what a receiver gets', () => {
  it('a delivery status: the Notify fields with GC additions, a bearer token and a verifiable signature', async () => {
    const receiver = await startReceiver();
    const service = await serviceWithCallback(receiver.url);
    const notificationId = await sendEmail(service, { reference: 'case-42' });
    await changeStatus(notificationId, 'delivered', 'Message accepted by the mailbox');
    const sender = startSender(config());
    await sender.drain();

    expect(receiver.received).toHaveLength(1);
    const [r] = receiver.received;
    const n = await db
      .selectFrom('notifications')
      .selectAll()
      .where('id', '=', notificationId)
      .executeTakeFirstOrThrow();
    const [row] = await deliveries(service.id);
    const body = JSON.parse(r!.body);
    expect(body).toEqual({
      id: notificationId,
      reference: 'case-42',
      to: 'Someone@Example.com',
      status: 'delivered',
      created_at: expect.stringMatching(NOTIFY_DATE),
      completed_at: expect.stringMatching(NOTIFY_DATE),
      sent_at: expect.stringMatching(NOTIFY_DATE),
      notification_type: 'email',
      template_id: service.template.id,
      template_version: 1,
      status_description: 'Delivered',
      provider_response: 'Message accepted by the mailbox',
    });
    expect(body.completed_at).toBe(row!.status_at!.toISOString().replace('Z', '000Z'));
    expect(body.created_at).toBe(n.created_at.toISOString().replace('Z', '000Z'));

    expect(r!.path).toBe('/callback');
    expect(r!.headers['content-type']).toBe('application/json');
    expect(r!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(r!.headers['webhook-id']).toBe(row!.id);
    expect(Number(r!.headers['webhook-timestamp'])).toBeGreaterThan(Date.now() / 1000 - 600);
    expect(service.webhookSecret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(signatureIsValid(r!, service.webhookSecret)).toBe(true);
    // The reference implementation agrees.
    expect(() =>
      new Webhook(service.webhookSecret).verify(r!.body, r!.headers as Record<string, string>),
    ).not.toThrow();
    // A tampered body does not verify.
    expect(
      signatureIsValid({ ...r!, body: r!.body.replace('delivered', 'permanent-failure') }, service.webhookSecret),
    ).toBe(false);

    expect(row!.state).toBe('delivered');
    expect(row!.last_response).toMatch(/^200/);
  });

  it('each status in turn, as it was when it changed', async () => {
    const receiver = await startReceiver();
    const service = await serviceWithCallback(receiver.url);
    const notificationId = await sendEmail(service);
    await changeStatus(notificationId, 'temporary-failure', 'Mailbox full');
    await changeStatus(notificationId, 'delivered', 'Finally');
    // One at a time, so that the order they arrive in is the order they were sent in.
    await startSender(config({ CALLBACK_PER_SERVICE_CONCURRENCY: '1' })).drain();
    const bodies = receiver.received.map((r) => JSON.parse(r.body));
    expect(bodies.map((b) => [b.status, b.status_description, b.provider_response])).toEqual([
      ['temporary-failure', 'Content or inbox issue', 'Mailbox full'],
      ['delivered', 'Delivered', 'Finally'],
    ]);
  });

  it('a received text message', async () => {
    const receiver = await startReceiver();
    const service = await serviceWithCallback(receiver.url, 'inbound_sms');
    await db.updateTable('services').set({ inbound_number: '+16135550100' }).where('id', '=', service.id).execute();
    const receivedAt = new Date('2026-03-01T12:34:56.789Z');
    await storeInboundTexts(db, [{ to: '+1 613 555 0100', from: '+1 613 555 0188', content: 'STOP', receivedAt }]);
    await startSender(config()).drain();

    expect(receiver.received).toHaveLength(1);
    const text = await db
      .selectFrom('received_texts')
      .select('id')
      .where('service_id', '=', service.id)
      .executeTakeFirstOrThrow();
    expect(JSON.parse(receiver.received[0]!.body)).toEqual({
      id: text.id,
      source_number: '+16135550188',
      destination_number: '+16135550100',
      message: 'STOP',
      date_received: '2026-03-01T12:34:56.789000Z',
    });
    expect(signatureIsValid(receiver.received[0]!, service.webhookSecret)).toBe(true);
  });

  it('a complaint', async () => {
    const receiver = await startReceiver();
    const service = await serviceWithCallback(receiver.url, 'complaint');
    const notificationId = await sendEmail(service, { reference: 'ref-7' });
    const { rows } = await sql<{ id: string }>`
      WITH complained AS (
        INSERT INTO complaints (service_id, notification_id, complaint_type, complaint_date)
        VALUES (${service.id}, ${notificationId}, 'abuse', '2026-03-02T08:00:00Z')
        RETURNING id, service_id
      ),
      queued AS (${queueComplaintCallbacks('complained')})
      SELECT id FROM complained`.execute(db);
    await startSender(config()).drain();

    expect(receiver.received).toHaveLength(1);
    expect(JSON.parse(receiver.received[0]!.body)).toEqual({
      notification_id: notificationId,
      complaint_id: rows[0]!.id,
      reference: 'ref-7',
      to: 'Someone@Example.com',
      complaint_date: '2026-03-02T08:00:00.000000Z',
    });
  });

  it('nothing, when retention deleted the notification first: the callback is dropped', async () => {
    const receiver = await startReceiver();
    const service = await serviceWithCallback(receiver.url);
    const notificationId = await sendEmail(service);
    await changeStatus(notificationId, 'delivered');
    await db.deleteFrom('notifications').where('id', '=', notificationId).execute();
    await startSender(config()).drain();

    expect(receiver.received).toHaveLength(0);
    const [row] = await deliveries(service.id);
    expect(row!.state).toBe('dropped');
    expect(row!.last_response).toMatch(/no longer exists/);
  });
});

describe('retries', () => {
  it('retries 503 and 429 with the same webhook-id, then delivers', async () => {
    const receiver = await startReceiver((_r, n) =>
      n === 1 ? { status: 503, body: 'down' } : n === 2 ? { status: 429 } : { status: 204 },
    );
    const service = await serviceWithCallback(receiver.url);
    await changeStatus(await sendEmail(service), 'permanent-failure');
    startSender(config(), { retryDelayMs: () => 0 });
    const [row] = await waitForState(service.id, 'delivered');

    expect(receiver.received).toHaveLength(3);
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id']))).toEqual(new Set([row!.id]));
    for (const r of receiver.received) expect(signatureIsValid(r, service.webhookSecret)).toBe(true);
    expect(row!.attempts).toBe(3);
    expect(row!.last_response).toMatch(/^204/);
  });

  it('waits as long as a 429 or 503 answer asks with Retry-After, up to an hour', async () => {
    for (const [retryAfter, seconds] of [
      ['120', 120],
      ['86400', 3600],
    ] as const) {
      const receiver = await startReceiver(() => ({ status: 429, headers: { 'retry-after': retryAfter } }));
      const service = await serviceWithCallback(receiver.url);
      await changeStatus(await sendEmail(service), 'delivered');
      const sender = startSender(config(), { retryDelayMs: () => 0 });
      await waitFor(
        async () => receiver.received.length === 1 && (await deliveries(service.id))[0]!.claimed_until === null,
        'the first try to be released',
      );
      await sender.stop();
      const [row] = await deliveries(service.id);
      const waitSeconds = (row!.next_attempt_at.getTime() - Date.now()) / 1000;
      // The backoff alone would be 0 here: the receiver's word decides when the next try is.
      expect(waitSeconds).toBeGreaterThan(seconds - 30);
      expect(waitSeconds).toBeLessThanOrEqual(seconds + 1);
      expect(row!.state).toBe('pending');
    }
  });

  it('gives up after the configured attempts, keeping a short last response', async () => {
    const receiver = await startReceiver(() => ({ status: 500, body: 'x'.repeat(10_000) }));
    const service = await serviceWithCallback(receiver.url);
    await changeStatus(await sendEmail(service), 'delivered');
    startSender(config({ CALLBACK_MAX_ATTEMPTS: '3' }), { retryDelayMs: () => 0 });
    const [row] = await waitForState(service.id, 'failed');

    expect(receiver.received).toHaveLength(3);
    expect(row!.last_response).toMatch(/^gave up after 3 attempts: 500 x+/);
    expect(row!.last_response!.length).toBeLessThanOrEqual(300);
  });

  it('retries a receiver that does not answer within the timeout', async () => {
    const receiver = await startReceiver(() => 'hang');
    const service = await serviceWithCallback(receiver.url);
    await changeStatus(await sendEmail(service), 'delivered');
    startSender(config({ CALLBACK_TIMEOUT_MS: '300', CALLBACK_MAX_ATTEMPTS: '2' }), { retryDelayMs: () => 0 });
    const [row] = await waitForState(service.id, 'failed');

    expect(receiver.received).toHaveLength(2);
    expect(row!.last_response).toMatch(/gave up after 2 attempts: no answer: no answer within 300 ms/);
  });

  it('does not retry other 4xx answers', async () => {
    const receiver = await startReceiver(() => ({ status: 401, body: 'bad token' }));
    const service = await serviceWithCallback(receiver.url);
    await changeStatus(await sendEmail(service), 'delivered');
    await startSender(config(), { retryDelayMs: () => 0 }).drain();

    expect(receiver.received).toHaveLength(1);
    const [row] = await deliveries(service.id);
    expect(row!.state).toBe('failed');
    expect(row!.last_response).toBe('401 bad token');
  });

  it('spreads the default attempts over more than 25 minutes, with backoff', () => {
    const delays = [1, 2, 3, 4, 5].map((attempt) => callbackRetryDelayMs(attempt, () => 0));
    expect(delays).toEqual([60_000, 120_000, 240_000, 480_000, 960_000]);
    expect(delays.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(25 * 60_000);
    expect(config().callbacks.maxAttempts).toBeGreaterThanOrEqual(5);
    expect(callbackRetryDelayMs(3, () => 0.999)).toBeLessThanOrEqual(240_000 * 1.2);
  });
});

describe('410 Gone', () => {
  it('fails the callback, disables it, drops what is queued for it, and nothing more is queued', async () => {
    const receiver = await startReceiver(() => ({ status: 410, body: 'gone' }));
    const service = await serviceWithCallback(receiver.url);
    for (let i = 0; i < 3; i++) await changeStatus(await sendEmail(service), 'delivered');
    const cfg = config({ CALLBACK_PER_SERVICE_CONCURRENCY: '1' });
    await startSender(cfg).drain();

    expect(receiver.received).toHaveLength(1);
    const rows = await deliveries(service.id);
    expect(rows.map((r) => r.state).sort()).toEqual(['dropped', 'dropped', 'failed']);
    expect(rows.find((r) => r.state === 'failed')!.last_response).toBe('410 gone');
    expect(rows.find((r) => r.state === 'dropped')!.last_response).toMatch(/callback disabled: .* answered 410 Gone/);
    const callback = await db
      .selectFrom('service_callbacks')
      .selectAll()
      .where('service_id', '=', service.id)
      .executeTakeFirstOrThrow();
    expect(callback.disabled_at).not.toBeNull();
    expect(callback.disabled_reason).toMatch(/410 Gone/);

    await changeStatus(await sendEmail(service), 'delivered');
    expect(await deliveries(service.id)).toHaveLength(3);

    // Setting the callback again turns it back on.
    await setCallback(
      db,
      secrets,
      service.id,
      'delivery_status',
      { url: receiver.url, bearerToken: TOKEN },
      { allowedHosts: cfg.callbacks.allowedHosts },
    );
    await changeStatus(await sendEmail(service), 'delivered');
    expect(await deliveries(service.id)).toHaveLength(4);
  });
});

describe('isolation between services', () => {
  it("a receiver that hangs holds back only its own service's callbacks", async () => {
    const stuck = await startReceiver(() => 'hang');
    const healthy = await startReceiver();
    const a = await serviceWithCallback(stuck.url);
    const b = await serviceWithCallback(healthy.url);
    // A's callbacks are older, so they are claimed first.
    for (let i = 0; i < 6; i++) await changeStatus(await sendEmail(a), 'delivered');
    for (let i = 0; i < 6; i++) await changeStatus(await sendEmail(b), 'delivered');
    startSender(config({ CALLBACK_TIMEOUT_MS: '60000', CALLBACK_PER_SERVICE_CONCURRENCY: '2' }));

    await waitForState(b.id, 'delivered', 6);
    expect(healthy.received).toHaveLength(6);
    // A's receiver holds its two requests: no more than its share was sent, and none finished.
    await waitFor(async () => stuck.open === 2, "A's two requests to reach its receiver");
    expect(stuck.received).toHaveLength(2);
    expect((await deliveries(a.id)).every((r) => r.state === 'pending')).toBe(true);

    stuck.release();
    await waitForState(a.id, 'delivered', 6);
  });
});

describe('where callbacks may go', () => {
  it('never follows a redirect', async () => {
    const elsewhere = await startReceiver();
    const redirecting = await startReceiver(() => ({ status: 307, headers: { location: elsewhere.url } }));
    const service = await serviceWithCallback(redirecting.url);
    await changeStatus(await sendEmail(service), 'delivered');
    await startSender(config()).drain();

    expect(redirecting.received).toHaveLength(1);
    expect(elsewhere.received).toHaveLength(0);
    const [row] = await deliveries(service.id);
    expect(row!.state).toBe('failed');
    expect(row!.last_response).toBe(`307 redirect not followed (to ${elsewhere.url})`);
  });

  it('never connects to loopback, link-local or metadata addresses unless the host is allowed', async () => {
    // A listener that counts connections: a request refused at connect time never reaches it.
    let connections = 0;
    const listener = net.createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => listener.close(() => resolve())));
    const port = (listener.address() as AddressInfo).port;

    const strict = testConfig({ CALLBACK_TIMEOUT_MS: '3000' });
    const urls = [
      `https://localhost:${port}/cb`,
      `https://127.0.0.1:${port}/cb`,
      `https://[::ffff:127.0.0.1]:${port}/cb`,
      'https://169.254.169.254/latest/meta-data/',
      'https://10.1.2.3/cb',
      'https://100.64.0.1/cb',
    ];
    const services: string[] = [];
    for (const url of urls) {
      const service = await serviceWithCallback(url, 'delivery_status', strict);
      await changeStatus(await sendEmail(service), 'delivered');
      services.push(service.id);
    }
    await startSender(strict).drain();

    expect(connections).toBe(0);
    for (const [i, serviceId] of services.entries()) {
      const [row] = await deliveries(serviceId);
      expect(row!.state, urls[i]).toBe('failed');
      expect(row!.last_response, urls[i]).toMatch(/^blocked: .*special-purpose address/);
      expect(row!.attempts, urls[i]).toBe(1);
    }
    expect((await deliveries(services[0]!))[0]!.last_response).toMatch(/^blocked: localhost:\d+ is at 127\.0\.0\.1/);
  });

  it('refuses a plain http URL saved for a host that is no longer allowed', async () => {
    const receiver = await startReceiver();
    const service = await serviceWithCallback(receiver.url);
    await changeStatus(await sendEmail(service), 'delivered');
    await startSender(testConfig()).drain();

    expect(receiver.received).toHaveLength(0);
    const [row] = await deliveries(service.id);
    expect(row!.state).toBe('failed');
    expect(row!.last_response).toMatch(/^blocked: only https URLs are allowed/);
  });

  it('reaches an allowed host by name', async () => {
    const receiver = await startReceiver();
    const service = await serviceWithCallback(`http://localhost:${receiver.port}/hook`);
    await changeStatus(await sendEmail(service), 'delivered');
    await startSender(config()).drain();
    expect(receiver.received.map((r) => r.path)).toEqual(['/hook']);
  });
});

describe('callbacks that changed after they were queued', () => {
  it('drops rows of a callback the service removed', async () => {
    const receiver = await startReceiver();
    const service = await serviceWithCallback(receiver.url);
    await changeStatus(await sendEmail(service), 'delivered');
    await db.deleteFrom('service_callbacks').where('service_id', '=', service.id).execute();
    await startSender(config()).drain();
    expect(receiver.received).toHaveLength(0);
    const [row] = await deliveries(service.id);
    expect(row!.state).toBe('dropped');
  });

  it('sends to the URL and token set when it is sent', async () => {
    const first = await startReceiver();
    const second = await startReceiver();
    const service = await serviceWithCallback(first.url);
    await changeStatus(await sendEmail(service), 'delivered');
    await setCallback(
      db,
      secrets,
      service.id,
      'delivery_status',
      { url: second.url, bearerToken: 'a-brand-new-token' },
      { allowedHosts: ['127.0.0.1'] },
    );
    await startSender(config()).drain();
    expect(first.received).toHaveLength(0);
    expect(second.received.map((r) => r.headers.authorization)).toEqual(['Bearer a-brand-new-token']);
  });
});
