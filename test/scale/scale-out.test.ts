/**
 * Scale-out on one PostgreSQL: two `envoi api` and two `envoi worker` processes share a database; 20,000 emails
 * are sent through both APIs to a real SMTP server in this process, and meanwhile one API and one worker are
 * killed with SIGKILL and started again. Asserted: nothing acknowledged is lost (every 201 is stored, delivered
 * and received by the SMTP server), the daily limit holds exactly across both APIs and the kill (the service's
 * limit is the 20,000: every request is stored and counted, or refused with Notify's 429), and the
 * messages sent twice (a killed worker's, handed to the relay before their outcome was written) are counted and
 * printed, not bounded: on a starved machine a live worker's rows can also outlive their lease and go twice.
 * The figures (time, rates, duplicates) are printed for docs/scaling.md.
 *
 * The client is careful as a real one would be: a request refused at connect (the API was down) goes to the other
 * API at once; one cut off after it was sent may or may not have been committed, so it is looked up by its
 * reference once the APIs are back, and sent again only if it was not stored.
 *
 * PostgreSQL only (several processes on one database); skipped without DATABASE_URL.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import { sql } from 'kysely';
import { openDatabase, type DbHandle } from '../../src/platform/database/connection.ts';
import { createSandbox, type EnvoiSandbox } from '../support/envoi-process.ts';
import { bearer } from '../api/helpers.ts';
import { spawnEnvoi, waitUntilServing, type EnvoiProcess } from './processes.ts';
import { freePort } from '../support/ports.ts';

/** The service's daily email limit, and so the number of emails accepted and delivered. */
const LIMIT = 20_000;
/** Requests past the limit: each must be refused. */
const EXTRA = 300;
const IN_FLIGHT = 64;
/** When the first API and the first worker are killed: acknowledged sends, and messages at the relay. */
const KILL_API_AT = 8_000;
const KILL_WORKER_AT = 6_000;
const WORKER_ENV = {
  SMTP_POOL_SIZE: '10',
  WORKER_CONCURRENCY: '50',
  WORKER_BATCH_SIZE: '100',
  WORKER_POLL_MS: '20',
  // A killed worker's leased rows wait this long before another worker claims them. Not much shorter: a row
  // still waiting in a live worker's batch when its lease runs out is claimed and sent again by the other worker.
  WORKER_LEASE_SECONDS: '30',
};

describe.skipIf(!process.env.DATABASE_URL)('two APIs and two workers on one PostgreSQL', () => {
  let sandbox: EnvoiSandbox;
  let db: DbHandle;
  let relay: CountingRelay;
  const apis: Array<{ url: string; env: NodeJS.ProcessEnv; process: EnvoiProcess }> = [];
  const workers: EnvoiProcess[] = [];
  let workerEnv: NodeJS.ProcessEnv;
  let service: { id: string; templateId: string; key: string };

  beforeAll(async () => {
    relay = await startCountingRelay();
    sandbox = await createSandbox('envoi-scale', {
      EMAIL_PROVIDER: 'smtp',
      SMTP_URL: relay.url,
      ENVOI_EMAIL_DOMAIN: 'scale.example',
      LOG_LEVEL: 'warn',
      JOB_POLL_MS: '1000',
    });
    const file = path.join(sandbox.dir, 'bootstrap.json');
    await writeFile(file, JSON.stringify(bootstrapFile()));
    const bootstrapped = await sandbox.envoi('bootstrap', file);
    expect(bootstrapped.code, bootstrapped.stderr).toBe(0);
    const provisioned = JSON.parse(bootstrapped.stdout).services[0];
    service = { id: provisioned.id, templateId: provisioned.templates.notice, key: provisioned.api_keys.live };
    db = await openDatabase({ databaseUrl: sandbox.env.DATABASE_URL!, poolSize: 2 });

    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const env = { ...sandbox.env, PORT: String(port) };
      apis.push({ url: `http://127.0.0.1:${port}`, env, process: spawnEnvoi('api', env) });
    }
    await Promise.all(apis.map((api) => waitUntilServing(api.url, api.process)));
    workerEnv = { ...sandbox.env, ...WORKER_ENV };
    workers.push(spawnEnvoi('worker', workerEnv), spawnEnvoi('worker', workerEnv));
  }, 120_000);

  afterAll(async () => {
    await Promise.all([...apis.map((api) => api.process.kill()), ...workers.map((w) => w.kill())]);
    await db?.close();
    await sandbox?.cleanup();
    await relay?.close();
  });

  it('loses nothing, holds the daily limit and counts what was sent twice', async () => {
    await awayFromMidnight();
    const started = performance.now();
    const sends = new Sender(apis, service);
    const kills = (async () => {
      await until(() => sends.acknowledged.size >= KILL_API_AT);
      await apis[0]!.process.kill();
      apis[0]!.process = spawnEnvoi('api', apis[0]!.env);
      await until(() => relay.seen.size >= KILL_WORKER_AT);
      await workers[0]!.kill();
      workers[0] = spawnEnvoi('worker', workerEnv);
      await waitUntilServing(apis[0]!.url, apis[0]!.process);
    })();
    await sends.run(LIMIT + EXTRA);
    await kills;
    const accepted = performance.now();
    // Requests cut off mid-way: stored (committed before the kill) or sent again.
    const cutOff = await sends.resolveCutOff(db);
    const stored = await storedIds(db, service.id);

    const counted = await countedToday(db, service.id);

    await until(async () => (await unfinished(db)) === 0, 600_000);
    const delivered = performance.now();
    const statuses = await db.db
      .selectFrom('notifications')
      .select(['status', sql<number>`count(*)::int`.as('n')])
      .groupBy('status')
      .execute();
    const neverReceived = [...stored].filter((id) => !relay.seen.has(id));
    const twice = [...relay.seen].filter(([, n]) => n > 1);
    const seconds = (ms: number) => (ms / 1000).toFixed(1);
    console.log(
      [
        `scale-out: ${LIMIT + EXTRA} requests for a daily limit of ${LIMIT}, through 2 APIs and 2 workers, one of each killed and restarted`,
        `  answered in ${seconds(accepted - started)} s (${Math.round((LIMIT + EXTRA) / ((accepted - started) / 1000))} requests/s): ${sends.acknowledged.size} × 201, ${sends.refused} × 429, ${sends.unexpected.length} other`,
        `  cut off by the API kill: ${cutOff.stored + cutOff.resent} (${cutOff.stored} had been stored, ${cutOff.resent} sent again)`,
        `  stored ${stored.size}, counted against the limit ${counted}: ${stored.size - LIMIT} past the limit`,
        `  all delivered in ${seconds(delivered - started)} s (${Math.round(stored.size / ((delivered - started) / 1000))} emails/s end to end)`,
        `  sent twice: ${twice.length} message(s)${
          twice.length
            ? `: ${twice
                .slice(0, 50)
                .map(([id, n]) => `${id} ×${n}`)
                .join(', ')}${twice.length > 50 ? ', …' : ''}`
            : ''
        }`,
        `  never received: ${neverReceived.length}`,
      ].join('\n'),
    );

    // Nothing acknowledged is lost: every 201 is stored, delivered, and was received by the relay.
    expect([...sends.acknowledged.values()].filter((id) => !stored.has(id))).toEqual([]);
    expect(sends.acknowledged.size + cutOff.stored).toBe(stored.size);
    expect(statuses).toEqual([{ status: 'delivered', n: stored.size }]);
    expect(neverReceived).toEqual([]);
    // Messages sent twice are allowed (at least once) and only counted: the killed worker's in-flight sends, and on
    // a starved machine rows whose lease ran out while they waited in a live worker's batch.
    // The daily limit: every request is either stored or refused with Notify's 429, and every stored message counts.
    expect(sends.unexpected).toEqual([]);
    expect(stored.size + sends.refused).toBe(LIMIT + EXTRA);
    expect(counted).toBe(stored.size);
    // Exact across both APIs and the kill: near the limit each send is checked against the committed count.
    expect(stored.size).toBe(LIMIT);
  }, 900_000);
});

/** A careful API client spreading requests over the APIs, each request with its index as its reference. */
class Sender {
  /** Index → notification id, for every 201. */
  readonly acknowledged = new Map<number, string>();
  refused = 0;
  readonly unexpected: Array<{ index: number; status: number; body: string }> = [];
  /** Requests whose connection broke after they were sent: committed or not, nobody knows yet. */
  readonly cutOff: number[] = [];

  constructor(
    private readonly apis: ReadonlyArray<{ url: string }>,
    private readonly service: { templateId: string; key: string },
  ) {}

  async run(count: number): Promise<void> {
    let next = 0;
    const lane = async () => {
      for (let index = next++; index < count; index = next++) await this.send(index);
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  }

  /** Looks up each cut-off request by its reference; sends again those that were never stored. */
  async resolveCutOff(db: DbHandle): Promise<{ stored: number; resent: number }> {
    const pending = this.cutOff.splice(0);
    const found = await db.db
      .selectFrom('notifications')
      .select('client_reference')
      .where('client_reference', 'in', pending.length ? pending.map(reference) : ['-'])
      .execute();
    const stored = new Set(found.map((r) => r.client_reference));
    const resend = pending.filter((index) => !stored.has(reference(index)));
    for (const index of resend) await this.send(index);
    if (this.cutOff.length) throw new Error(`requests cut off again while resolving: ${this.cutOff.join(', ')}`);
    return { stored: stored.size, resent: resend.length };
  }

  private async send(index: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const api = this.apis[(index + attempt) % this.apis.length]!;
      let response: Response;
      try {
        response = await fetch(`${api.url}/v2/notifications/email`, {
          method: 'POST',
          headers: { authorization: bearer(this.service.key), 'content-type': 'application/json' },
          body: JSON.stringify({
            email_address: `person${index}@example.com`,
            template_id: this.service.templateId,
            reference: reference(index),
          }),
        });
      } catch (err) {
        // Refused at connect: that API is down and nothing was sent, so the other one is tried at once.
        if ((err as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED') {
          if (attempt % this.apis.length === this.apis.length - 1) await new Promise((r) => setTimeout(r, 50));
          continue;
        }
        this.cutOff.push(index);
        return;
      }
      const text = await response.text();
      if (response.status === 201) this.acknowledged.set(index, (JSON.parse(text) as { id: string }).id);
      else if (response.status === 429 && isDailyLimitRefusal(text)) this.refused++;
      else this.unexpected.push({ index, status: response.status, body: text });
      return;
    }
  }
}

const reference = (index: number) => `scale-${index}`;

function isDailyLimitRefusal(text: string): boolean {
  const body = JSON.parse(text) as { status_code: number; errors: Array<{ error: string; message: string }> };
  return (
    body.status_code === 429 &&
    body.errors.length === 1 &&
    body.errors[0]!.error === 'TooManyRequestsError' &&
    body.errors[0]!.message === `Exceeded send limits (email: ${LIMIT}) for today`
  );
}

async function storedIds(db: DbHandle, serviceId: string): Promise<Set<string>> {
  const rows = await db.db.selectFrom('notifications').select('id').where('service_id', '=', serviceId).execute();
  return new Set(rows.map((r) => r.id));
}

/** The day's daily-limit counter for email, summed over its shards. */
async function countedToday(db: DbHandle, serviceId: string): Promise<number> {
  const row = await db.db
    .selectFrom('daily_send_counts')
    .select(sql<number>`coalesce(sum(sent), 0)::int`.as('n'))
    .where('service_id', '=', serviceId)
    .where('channel', '=', 'email')
    .executeTakeFirstOrThrow();
  return row.n;
}

async function unfinished(db: DbHandle): Promise<number> {
  const row = await db.db
    .selectFrom('notifications')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('status', 'in', ['created', 'sending', 'pending'])
    .executeTakeFirstOrThrow();
  return row.n;
}

/** Polls `check`; the bound only ends a test that would otherwise hang. */
async function until(check: () => boolean | Promise<boolean>, boundMs = 300_000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting after ${boundMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The daily limit counts per UTC day: a run that crosses midnight would start a new day's count half-way. */
async function awayFromMidnight(): Promise<void> {
  const msToMidnight = 86_400_000 - (Date.now() % 86_400_000);
  if (msToMidnight < 10 * 60_000) await new Promise((resolve) => setTimeout(resolve, msToMidnight + 1_000));
}

function bootstrapFile() {
  return {
    services: [
      {
        name: 'Scale-out Office',
        restricted: false,
        permissions: ['email'],
        message_limit: { email: LIMIT },
        rate_limit: 1_000_000_000,
        email_sender: 'scale',
        templates: [
          {
            key: 'notice',
            type: 'email',
            versions: [
              {
                name: 'Notice',
                subject: 'Your application was received',
                content: 'Hello,\r\n\r\nYour application was received. We will write again within 10 days.',
              },
            ],
          },
        ],
        api_keys: [{ name: 'live', type: 'normal' }],
      },
    ],
  };
}

interface CountingRelay {
  url: string;
  /** Notification id (from the Message-ID) → times received. */
  seen: Map<string, number>;
  close(): Promise<void>;
}

/** A real SMTP server that keeps only each message's notification id, read from its Message-ID header. */
async function startCountingRelay(): Promise<CountingRelay> {
  const seen = new Map<string, number>();
  const record = (head: string) => {
    const id = /\nmessage-id:\s*<([0-9a-f-]{36})@/i.exec(`\n${head}`)?.[1];
    if (id) seen.set(id, (seen.get(id) ?? 0) + 1);
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    maxClients: 1_000,
    onData(stream, _session, callback) {
      let head = '';
      let done = false;
      stream.on('data', (chunk: Buffer) => {
        if (done) return;
        head += chunk.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end >= 0) {
          done = true;
          record(head.slice(0, end));
        }
      });
      stream.on('end', () => {
        if (!done) record(head);
        callback(null);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // A worker killed mid-conversation resets its connections: not the relay's failure.
  server.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') throw err;
  });
  const { port } = server.server.address() as { port: number };
  return {
    url: `smtp://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
