/**
 * The scheduler's timeout sweep and its one-leader rule: messages a provider never answered for 72 hours become
 * temporary-failure with their status callbacks queued; on PostgreSQL only the process holding the leader lock
 * does anything.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { openDatabase, type Db, type DbHandle } from '../../src/platform/database/connection.ts';
import { startScheduler, type Scheduler } from '../../src/notify/delivery/scheduler.ts';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';
import { createService, createTemplate, notification, testConfig, type TemplateRef } from './fixtures.ts';

const HOUR = 3_600_000;
// A day between runs: each test calls runOnce() itself.
const config = testConfig({ SCHEDULER_INTERVAL_MS: '86400000' });

let tdb: TestDatabase;
let withCallback: string;
let withoutCallback: string;
let templateA: TemplateRef;
let templateB: TemplateRef;
const schedulers: Scheduler[] = [];

beforeAll(async () => {
  tdb = await openTestDatabase();
  withCallback = await createService(tdb.db, { name: 'Passport Office' });
  withoutCallback = await createService(tdb.db, { name: 'Tax Office' });
  templateA = await createTemplate(tdb.db, withCallback, { type: 'sms', content: 'Your code is 123' });
  templateB = await createTemplate(tdb.db, withoutCallback, { type: 'email', subject: 'Hi', content: 'Hello' });
  await tdb.db
    .insertInto('service_callbacks')
    .values({
      service_id: withCallback,
      callback_type: 'delivery_status',
      url: 'https://callbacks.example.com/status',
      bearer_token_sealed: 'sealed-token-not-read-here',
    })
    .execute();
});

afterAll(async () => {
  await Promise.all(schedulers.map((s) => s.stop()));
  await tdb?.close();
});

beforeEach(async () => {
  await tdb.db.deleteFrom('notifications').execute();
  await tdb.db.deleteFrom('callback_deliveries').execute();
});

function scheduler(db: Db = tdb.db, database: DbHandle = tdb): Scheduler {
  const s = startScheduler({ db, database, config });
  schedulers.push(s);
  return s;
}

/** A message handed to a provider `hoursAgo` hours ago and still in `status`. */
async function sent(serviceId: string, status: string, hoursAgo: number): Promise<string> {
  const id = randomUUID();
  const sentAt = new Date(Date.now() - hoursAgo * HOUR);
  const email = serviceId === withoutCallback;
  await tdb.db
    .insertInto('notifications')
    .values({
      id,
      service_id: serviceId,
      template_id: email ? templateB.id : templateA.id,
      template_version: 1,
      key_type: 'normal',
      notification_type: email ? 'email' : 'sms',
      to: email ? 'someone@example.com' : '+16135550123',
      normalised_to: email ? 'someone@example.com' : '+16135550123',
      body: 'Hello',
      status,
      provider: 'sink',
      next_attempt_at: sentAt,
      created_at: new Date(sentAt.getTime() - 60_000),
      sent_at: sentAt,
    })
    .execute();
  return id;
}

async function callbacks() {
  return tdb.db.selectFrom('callback_deliveries').selectAll().orderBy('subject_id').execute();
}

describe('timeouts', () => {
  it('turns messages sending or pending for over 72 hours into temporary-failure, and queues their callbacks', async () => {
    const staleSending = await sent(withCallback, 'sending', 73);
    const stalePending = await sent(withCallback, 'pending', 120);
    const recent = await sent(withCallback, 'sending', 71);
    const delivered = await sent(withCallback, 'delivered', 100);
    const noCallback = await sent(withoutCallback, 'sending', 80);

    const run = await scheduler().runOnce();
    expect(run?.timedOut).toBe(3);

    for (const id of [staleSending, stalePending, noCallback]) {
      const row = await notification(tdb.db, id);
      expect(row.status).toBe('temporary-failure');
      expect(row.provider_response).toBe('No delivery receipt from the provider within 72 hours');
      expect(row.updated_at).not.toBeNull();
    }
    expect((await notification(tdb.db, recent)).status).toBe('sending');
    expect((await notification(tdb.db, delivered)).status).toBe('delivered');

    // Only the service with a delivery-status callback gets callbacks, one per timed-out message.
    const queued = await callbacks();
    expect(queued.map((c) => c.subject_id).sort()).toEqual([staleSending, stalePending].sort());
    for (const c of queued) {
      expect(c).toMatchObject({
        service_id: withCallback,
        callback_type: 'delivery_status',
        status: 'temporary-failure',
        provider_response: 'No delivery receipt from the provider within 72 hours',
        state: 'pending',
      });
    }

    // A second run finds nothing more to do and queues nothing twice.
    expect((await scheduler().runOnce())?.timedOut).toBe(0);
    expect(await callbacks()).toHaveLength(2);
  });

  it('honours SENDING_TIMEOUT_HOURS', async () => {
    const id = await sent(withoutCallback, 'sending', 25);
    const s = startScheduler({
      db: tdb.db,
      database: tdb,
      config: testConfig({ SCHEDULER_INTERVAL_MS: '86400000', SENDING_TIMEOUT_HOURS: '24' }),
    });
    schedulers.push(s);
    await s.runOnce();
    const row = await notification(tdb.db, id);
    expect(row.status).toBe('temporary-failure');
    expect(row.provider_response).toBe('No delivery receipt from the provider within 24 hours');
  });

  it('times out many messages at once, one callback each', async () => {
    const ids = await Promise.all(Array.from({ length: 30 }, (_, i) => sent(withCallback, 'sending', 73 + i * 2)));
    await scheduler().runOnce();
    const rows = await tdb.db.selectFrom('notifications').select('status').where('id', 'in', ids).execute();
    expect(rows.every((r) => r.status === 'temporary-failure')).toBe(true);
    expect(await callbacks()).toHaveLength(30);
  });
});

describe.skipIf(!process.env.DATABASE_URL)('one leader at a time (PostgreSQL)', () => {
  it('does nothing while another process holds the leader lock, and the work once it is free', async () => {
    const id = await sent(withCallback, 'sending', 80);
    const other = new pg.Client({ connectionString: tdb.url! });
    await other.connect();
    try {
      // Another replica in the middle of its run.
      await other.query('SELECT pg_advisory_lock(4206012)');
      const s = scheduler();
      expect(await s.runOnce()).toBeNull();
      expect((await notification(tdb.db, id)).status).toBe('sending');

      await other.query('SELECT pg_advisory_unlock(4206012)');
      expect((await s.runOnce())?.timedOut).toBe(1);
      expect((await notification(tdb.db, id)).status).toBe('temporary-failure');
    } finally {
      await other.end();
    }
  });

  it('two schedulers in two processes running at once: each stale message is timed out and called back once', async () => {
    // A second pool on the same database stands for a second worker process.
    const second = await openDatabase({ databaseUrl: tdb.url! });
    try {
      const ids = await Promise.all(Array.from({ length: 20 }, () => sent(withCallback, 'pending', 80)));
      const a = scheduler();
      const b = scheduler(second.db, second);
      const runs = await Promise.all([a.runOnce(), b.runOnce(), a.runOnce(), b.runOnce()]);
      const leaders = runs.filter((r) => r !== null);
      expect(leaders.length).toBeGreaterThanOrEqual(1);
      expect(leaders.reduce((sum, r) => sum + r!.timedOut, 0)).toBe(20);
      const queued = await callbacks();
      expect(queued.map((c) => c.subject_id).sort()).toEqual([...ids].sort());
    } finally {
      await second.close();
    }
  });
});
