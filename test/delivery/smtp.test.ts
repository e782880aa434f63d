/** Delivery through nodemailer to a real SMTP server on an ephemeral port, judged by what that server received. */
import net from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startWorker, type Worker } from '../../src/notify/delivery/worker.ts';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';
import { freePort } from '../support/ports.ts';
import {
  createService,
  createTemplate,
  insertNotification,
  notification,
  startSmtpPeer,
  testConfig,
  waitFor,
  waitForStatus,
  type NotificationFixture,
  type SmtpPeer,
  type TemplateRef,
} from './fixtures.ts';

let tdb: TestDatabase;
let serviceId: string;
let template: TemplateRef;
// Workers stop before relays close: a relay waits for its clients to hang up before it closes.
const workers: Worker[] = [];
const relays: SmtpPeer[] = [];

beforeAll(async () => {
  tdb = await openTestDatabase();
  serviceId = await createService(tdb.db, { name: 'Passport "Renewals" Office', localPart: 'passports' });
  template = await createTemplate(tdb.db, serviceId, {
    type: 'email',
    subject: 'Your passport',
    content: 'Hello ((name)),\n\nYour passport is **ready**.',
  });
});

afterAll(async () => {
  await tdb?.close();
});

beforeEach(async () => {
  await tdb.db.deleteFrom('notifications').execute();
});

afterEach(async () => {
  vi.restoreAllMocks();
  for (const w of workers.splice(0)) await w.stop();
  for (const r of relays.splice(0)) await r.close();
});

function email(overrides: Partial<NotificationFixture> = {}): NotificationFixture {
  return {
    serviceId,
    template,
    type: 'email',
    to: 'alice@example.com',
    subject: 'Your passport',
    body: 'Hello Alice,\n\nYour passport is **ready**.',
    personalisation: { name: 'Alice' },
    ...overrides,
  };
}

async function peer(opts: Parameters<typeof startSmtpPeer>[0] = {}): Promise<SmtpPeer> {
  const p = await startSmtpPeer(opts);
  relays.push(p);
  return p;
}

function worker(smtpUrl: string, env: Record<string, string> = {}, retryDelayMs = () => 0): Worker {
  const w = startWorker({
    db: tdb.db,
    config: testConfig({ EMAIL_PROVIDER: 'smtp', SMTP_URL: smtpUrl, SMTP_POOL_SIZE: '2', ...env }),
    retryDelayMs,
  });
  workers.push(w);
  return w;
}

describe('SMTP delivery', () => {
  it('hands the relay a multipart message with the headers a mailbox needs', async () => {
    const relay = await peer();
    const noDelay = vi.spyOn(net.Socket.prototype, 'setNoDelay');
    const id = await insertNotification(
      tdb.db,
      email({ replyTo: 'help@passports.example.ca', unsubscribeUrl: 'https://passports.example.ca/u/abc?x=1' }),
    );
    await worker(relay.url).drain();

    const row = await waitForStatus(tdb.db, id, 'delivered');
    expect(row.provider).toBe('smtp');
    expect(row.provider_response).toMatch(/^250/);
    expect(row.sent_at).not.toBeNull();

    expect(relay.received).toHaveLength(1);
    const mail = relay.received[0]!;
    expect(mail.to).toEqual(['alice@example.com']);
    expect(mail.from).toBe('passports@notify.test.example');
    const h = mail.headers;
    expect(h.get('message-id')).toBe(`<${id}@notify.test.example>`);
    expect(h.get('from')).toBe('"Passport \\"Renewals\\" Office" <passports@notify.test.example>');
    expect(h.get('reply-to')).toBe('help@passports.example.ca');
    expect(h.get('subject')).toBe('Your passport');
    expect(h.get('list-unsubscribe')).toBe('<https://passports.example.ca/u/abc?x=1>');
    expect(h.get('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(h.get('content-type')).toMatch(/^multipart\/alternative/);
    expect(mail.raw).toMatch(/Content-Type: text\/plain/);
    expect(mail.raw).toMatch(/Content-Type: text\/html/);
    expect(mail.raw).toContain('Hello Alice');
    // Nagle off on Envoi's end of the relay connection (smtp-server and pg set it on their own sockets too):
    // without it each message waits on the relay's delayed ACK.
    const clientSockets = noDelay.mock.contexts.filter(
      (socket, i) => (socket as net.Socket).remotePort === relay.port && noDelay.mock.calls[i]![0] === true,
    );
    expect(clientSockets.length).toBeGreaterThan(0);
  });

  it('leaves out Reply-To and List-Unsubscribe when the notification has none', async () => {
    const relay = await peer();
    const id = await insertNotification(tdb.db, email());
    await worker(relay.url).drain();
    await waitForStatus(tdb.db, id, 'delivered');
    const h = relay.received[0]!.headers;
    expect(h.has('reply-to')).toBe(false);
    expect(h.has('list-unsubscribe')).toBe(false);
    expect(h.has('list-unsubscribe-post')).toBe(false);
  });

  it('marks a recipient the relay refuses with 5xx as permanent-failure, without retrying', async () => {
    const relay = await peer({ rcpt: () => ({ code: 550, message: 'No such user here' }) });
    const id = await insertNotification(tdb.db, email({ to: 'nobody@example.com' }));
    await worker(relay.url).drain();
    const row = await waitForStatus(tdb.db, id, 'permanent-failure');
    expect(row.provider_response).toContain('550');
    expect(row.provider_response).toContain('No such user here');
    expect(row.attempts).toBe(1);
    expect(relay.rcptCount).toBe(1);
  });

  it('retries a 4xx deferral and ends as technical-failure after the last attempt', async () => {
    const relay = await peer({ data: () => ({ code: 451, message: 'Try again later' }) });
    const id = await insertNotification(tdb.db, email());
    worker(relay.url, { WORKER_MAX_ATTEMPTS: '3' });
    const row = await waitForStatus(tdb.db, id, 'technical-failure');
    expect(row.attempts).toBe(3);
    expect(row.provider_response).toContain('451');
    expect(row.sent_at).toBeNull();
    expect(relay.received).toHaveLength(3);
    // Each resend is the same message to the recipient's mailbox.
    expect(new Set(relay.received.map((m) => m.headers.get('message-id')))).toEqual(
      new Set([`<${id}@notify.test.example>`]),
    );
  });

  it('delivers on a later attempt once the relay stops deferring', async () => {
    let deferrals = 1;
    const relay = await peer({ data: () => (deferrals-- > 0 ? { code: 452, message: 'Mailbox busy' } : null) });
    const id = await insertNotification(tdb.db, email());
    worker(relay.url);
    const row = await waitForStatus(tdb.db, id, 'delivered');
    expect(row.attempts).toBe(2);
    expect(row.provider_response).toMatch(/^250/);
    expect(relay.received.map((m) => m.headers.get('message-id'))).toEqual([
      `<${id}@notify.test.example>`,
      `<${id}@notify.test.example>`,
    ]);
  });

  it('retries when the relay is unreachable, and delivers once it is back', async () => {
    const port = await freePort();
    const id = await insertNotification(tdb.db, email());
    worker(`smtp://127.0.0.1:${port}`, { WORKER_MAX_ATTEMPTS: '50' }, () => 200);

    const failed = await waitFor(async () => {
      const row = await notification(tdb.db, id);
      return row.attempts >= 1 && row.provider_response ? row : undefined;
    }, 'a failed attempt');
    expect(failed.status).toBe('created');
    expect(failed.provider_response).toMatch(/ECONNREFUSED|ECONNECTION|connect/i);

    const relay = await peer({ port });
    await waitForStatus(tdb.db, id, 'delivered');
    expect(relay.received).toHaveLength(1);
  });
});
