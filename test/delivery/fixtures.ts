/** Rows, config and a real SMTP peer for the delivery tests. */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { loadConfig, type Config } from '../../src/platform/config.ts';
import type { Db } from '../../src/platform/database/connection.ts';
import type { TemplateCategory, TemplateType } from '../../src/notify/vocabulary.ts';

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ WORKER_POLL_MS: '20', ENVOI_EMAIL_DOMAIN: 'notify.test.example', ...env });
}

export async function createService(db: Db, opts: { name?: string; localPart?: string } = {}): Promise<string> {
  const id = randomUUID();
  await db
    .insertInto('services')
    .values({
      id,
      name: opts.name ?? `Service ${id.slice(0, 8)}`,
      email_sender_local_part: opts.localPart ?? 'service',
    })
    .execute();
  return id;
}

export interface TemplateRef {
  id: string;
  version: number;
}

export async function createTemplate(
  db: Db,
  serviceId: string,
  opts: { type: TemplateType; content: string; subject?: string; category?: TemplateCategory },
): Promise<TemplateRef> {
  const id = randomUUID();
  const row = {
    id,
    service_id: serviceId,
    name: `Template ${id.slice(0, 8)}`,
    type: opts.type,
    subject: opts.subject ?? null,
    content: opts.content,
    category: opts.category ?? 'normal',
  };
  await db.insertInto('templates').values(row).execute();
  await db
    .insertInto('template_history')
    .values({ ...row, version: 1, created_at: new Date() })
    .execute();
  return { id, version: 1 };
}

const PRIORITY = { high: 0, normal: 1, bulk: 2 } as const;

export interface NotificationFixture {
  serviceId: string;
  template: TemplateRef;
  type: TemplateType;
  to: string;
  body: string;
  subject?: string | null;
  personalisation?: Record<string, unknown>;
  keyType?: 'normal' | 'team' | 'test';
  category?: TemplateCategory;
  replyTo?: string | null;
  unsubscribeUrl?: string | null;
  billableUnits?: number;
  nextAttemptAt?: Date;
}

export async function insertNotification(db: Db, n: NotificationFixture): Promise<string> {
  const [id] = await insertNotifications(db, [n]);
  return id!;
}

export async function insertNotifications(db: Db, list: NotificationFixture[]): Promise<string[]> {
  const rows = list.map((n) => ({
    id: randomUUID(),
    service_id: n.serviceId,
    template_id: n.template.id,
    template_version: n.template.version,
    key_type: n.keyType ?? 'normal',
    notification_type: n.type,
    to: n.to,
    normalised_to: n.to.toLowerCase(),
    personalisation: JSON.stringify(n.personalisation ?? {}),
    subject: n.subject ?? null,
    body: n.body,
    reply_to_text: n.replyTo ?? null,
    one_click_unsubscribe_url: n.unsubscribeUrl ?? null,
    billable_units: n.billableUnits ?? 0,
    priority: PRIORITY[n.category ?? 'normal'],
    next_attempt_at: n.nextAttemptAt ?? new Date(),
  }));
  await db.insertInto('notifications').values(rows).execute();
  return rows.map((r) => r.id);
}

export async function notification(db: Db, id: string) {
  return db.selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** Polls until `check` returns a value other than undefined/false; the timeout only bounds a failing test. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export async function waitForStatus(db: Db, id: string, status: string) {
  return waitFor(async () => {
    const row = await notification(db, id);
    return row.status === status ? row : undefined;
  }, `notification ${id} to be ${status}`);
}

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  headers: Map<string, string>;
}

export interface SmtpPeer {
  port: number;
  url: string;
  received: ReceivedMail[];
  /** RCPT TO commands seen, accepted or not. */
  rcptCount: number;
  close(): Promise<void>;
}

/**
 * A real SMTP server on an ephemeral port. `rcpt` and `data` may answer with an SMTP error to play a relay that
 * refuses or defers a message.
 */
export async function startSmtpPeer(
  opts: {
    port?: number;
    rcpt?: (address: string) => { code: number; message: string } | null;
    data?: (mail: ReceivedMail) => { code: number; message: string } | null;
  } = {},
): Promise<SmtpPeer> {
  const received: ReceivedMail[] = [];
  const peer: SmtpPeer = { port: 0, url: '', received, rcptCount: 0, close: async () => {} };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      peer.rcptCount += 1;
      const refusal = opts.rcpt?.(address.address);
      callback(refusal ? smtpError(refusal) : null);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const mail: ReceivedMail = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          headers: parseHeaders(raw),
        };
        received.push(mail);
        const refusal = opts.data?.(mail);
        callback(refusal ? smtpError(refusal) : null);
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  // A client that dies mid-conversation (a worker killed with SIGKILL) resets its connection: not the peer's failure.
  server.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') throw err;
  });
  peer.port = (server.server.address() as AddressInfo).port;
  peer.url = `smtp://127.0.0.1:${peer.port}`;
  peer.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return peer;
}

function smtpError(e: { code: number; message: string }): Error {
  return Object.assign(new Error(e.message), { responseCode: e.code });
}

/** Top-level headers, unfolded, names lower-cased. */
export function parseHeaders(raw: string): Map<string, string> {
  const head = raw.split(/\r?\n\r?\n/, 1)[0] ?? '';
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  return headers;
}
