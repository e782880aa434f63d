/**
 * Workers killed with SIGKILL in the middle of a large send lose nothing: their leased rows are claimed again
 * once the lease runs out, and every notification reaches a final status. A message a worker had handed to the
 * relay but not yet recorded is sent again: the test counts those (same Message-ID twice) and bounds them by what
 * the killed workers had in flight.
 *
 * PostgreSQL only: the point is several worker processes sharing one database, which PGlite (one process per data
 * folder) cannot do. test/jobs/crash.test.ts covers a killed process on PGlite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { sql } from 'kysely';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';
import { ENVOI_BIN } from '../support/envoi-process.ts';
import { TEST_SECRET_KEY } from '../support/envoi.ts';
import {
  createService,
  createTemplate,
  insertNotifications,
  startSmtpPeer,
  waitFor,
  type SmtpPeer,
} from './fixtures.ts';

const MESSAGES = 3_000;
const CONCURRENCY = 20;
const KILL_AT = [400, 1_100, 1_800, 2_400];

describe.skipIf(!process.env.DATABASE_URL)('workers killed mid-batch', () => {
  let tdb: TestDatabase;
  let peer: SmtpPeer;
  const seen = new Map<string, number>();
  const workers = new Set<ChildProcess>();

  beforeAll(async () => {
    tdb = await openTestDatabase();
    peer = await startSmtpPeer({
      data: (mail) => {
        const id = /<([0-9a-f-]{36})@/.exec(mail.headers.get('message-id') ?? '')?.[1];
        if (id) seen.set(id, (seen.get(id) ?? 0) + 1);
        return null;
      },
    });
  });

  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await peer?.close();
    await tdb?.close();
  });

  function startWorker(): ChildProcess {
    const child = spawn(process.execPath, [ENVOI_BIN, 'worker'], {
      env: {
        ...process.env,
        DATABASE_URL: tdb.url!,
        ENVOI_SECRET_KEY: TEST_SECRET_KEY,
        EMAIL_PROVIDER: 'smtp',
        SMTP_URL: peer.url,
        SMTP_POOL_SIZE: '5',
        WORKER_CONCURRENCY: String(CONCURRENCY),
        WORKER_BATCH_SIZE: '100',
        WORKER_LEASE_SECONDS: '5',
        WORKER_POLL_MS: '20',
        JOB_POLL_MS: '1000',
        ENVOI_EMAIL_DOMAIN: 'crash.example',
        LOG_LEVEL: 'error',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    workers.add(child);
    child.once('exit', () => workers.delete(child));
    return child;
  }

  async function kill(child: ChildProcess): Promise<void> {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  it('delivers every message, sending again only what was in flight', async () => {
    const serviceId = await createService(tdb.db, { name: 'Crash Office', localPart: 'crash' });
    const template = await createTemplate(tdb.db, serviceId, { type: 'email', subject: 'Notice', content: 'Hello' });
    const rows = Array.from({ length: MESSAGES }, (_, i) => ({
      serviceId,
      template,
      type: 'email' as const,
      to: `person${i}@example.com`,
      subject: 'Notice',
      body: 'Hello',
    }));
    for (let i = 0; i < rows.length; i += 1_000) await insertNotifications(tdb.db, rows.slice(i, i + 1_000));

    let victim = startWorker();
    startWorker();
    for (const threshold of KILL_AT) {
      await waitFor(async () => peer.received.length >= threshold, `${threshold} messages at the relay`, 120_000);
      await kill(victim);
      victim = startWorker();
    }

    const remaining = async () =>
      (
        await sql<{ n: number }>`SELECT count(*)::int AS n FROM notifications WHERE status <> 'delivered'`.execute(
          tdb.db,
        )
      ).rows[0]!.n;
    await waitFor(async () => (await remaining()) === 0, 'every notification delivered', 180_000);

    const ids = (await tdb.db.selectFrom('notifications').select('id').execute()).map((r) => r.id);
    const neverSent = ids.filter((id) => !seen.has(id));
    const sentTwice = [...seen.values()].reduce((sum, n) => sum + (n - 1), 0);
    console.log(
      `crash test: ${MESSAGES} messages, ${KILL_AT.length} workers killed, ${sentTwice} sent twice, ${neverSent.length} never sent`,
    );
    expect(neverSent).toEqual([]);
    // Only sends in flight in a killed worker can go twice.
    expect(sentTwice).toBeLessThanOrEqual(KILL_AT.length * CONCURRENCY);
    expect(seen.size).toBe(MESSAGES);
  });
});
