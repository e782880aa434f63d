/**
 * The notifications table as a queue: lanes, scheduled sends, leases, SKIP LOCKED, stopping mid-batch, test keys.
 * Delivery goes to the sink, so what "was sent" is what landed in the outbox.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { claim, giveBack } from '../../src/platform/queue/claim-queue.ts';
import { openDatabase } from '../../src/platform/database/connection.ts';
import { startWorker } from '../../src/notify/delivery/worker.ts';
import { NOTIFICATION_QUEUE } from '../../src/notify/repositories/notifications.ts';
import type { EmailProvider, Providers } from '../../src/notify/delivery/providers/index.ts';
import { createSinkEmailProvider, createSinkSmsProvider } from '../../src/notify/delivery/providers/sink.ts';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';
import {
  createService,
  createTemplate,
  insertNotification,
  insertNotifications,
  notification,
  testConfig,
  waitForStatus,
  type NotificationFixture,
  type TemplateRef,
} from './fixtures.ts';

let tdb: TestDatabase;
let serviceId: string;
let emailTemplate: TemplateRef;
let smsTemplate: TemplateRef;

beforeAll(async () => {
  tdb = await openTestDatabase();
  serviceId = await createService(tdb.db, { name: 'Passport Office', localPart: 'passports' });
  emailTemplate = await createTemplate(tdb.db, serviceId, {
    type: 'email',
    subject: 'Hello',
    content: 'Hello ((name))',
  });
  smsTemplate = await createTemplate(tdb.db, serviceId, { type: 'sms', content: 'Your code is ((code))' });
});

afterAll(async () => {
  await tdb?.close();
});

beforeEach(async () => {
  await tdb.db.deleteFrom('notifications').execute();
  await tdb.db.deleteFrom('outbox').execute();
});

function email(overrides: Partial<NotificationFixture> = {}): NotificationFixture {
  return {
    serviceId,
    template: emailTemplate,
    type: 'email',
    to: 'someone@example.com',
    subject: 'Hello',
    body: 'Hello Alice',
    personalisation: { name: 'Alice' },
    ...overrides,
  };
}

function sms(overrides: Partial<NotificationFixture> = {}): NotificationFixture {
  return {
    serviceId,
    template: smsTemplate,
    type: 'sms',
    to: '+16135550123',
    body: 'Your code is 1234',
    personalisation: { code: '1234' },
    billableUnits: 1,
    ...overrides,
  };
}

async function outboxOrder(): Promise<string[]> {
  const rows = await tdb.db.selectFrom('outbox').select('notification_id').orderBy('id').execute();
  return rows.map((r) => r.notification_id);
}

describe('claiming', () => {
  it('hands out the high lane before normal and bulk, whatever their age', async () => {
    const hourAgo = new Date(Date.now() - 3_600_000);
    const bulk = await insertNotification(tdb.db, email({ category: 'bulk', nextAttemptAt: hourAgo }));
    const normal = await insertNotification(tdb.db, email({ category: 'normal', nextAttemptAt: hourAgo }));
    const high = await insertNotification(tdb.db, email({ category: 'high' }));

    const first = await claim(tdb.db, NOTIFICATION_QUEUE, { limit: 2, leaseSeconds: 60 });
    expect(first.map((r) => r.id).sort()).toEqual([high, normal].sort());
    const second = await claim(tdb.db, NOTIFICATION_QUEUE, { limit: 2, leaseSeconds: 60 });
    expect(second.map((r) => r.id)).toEqual([bulk]);
  });

  it('sends a high-lane message ahead of a bulk backlog', async () => {
    const backlog = await insertNotifications(
      tdb.db,
      Array.from({ length: 6 }, () => email({ category: 'bulk', nextAttemptAt: new Date(Date.now() - 60_000) })),
    );
    const urgent = await insertNotification(tdb.db, email({ category: 'high' }));
    const worker = startWorker({
      db: tdb.db,
      config: testConfig({ WORKER_BATCH_SIZE: '2', WORKER_CONCURRENCY: '1' }),
    });
    await worker.drain();
    await worker.stop();
    const order = await outboxOrder();
    expect(order[0]).toBe(urgent);
    expect(order.slice(1).sort()).toEqual([...backlog].sort());
  });

  it('does not send a scheduled notification before its time', async () => {
    const later = await insertNotification(tdb.db, email({ nextAttemptAt: new Date(Date.now() + 3_600_000) }));
    const now = await insertNotification(tdb.db, email());
    const worker = startWorker({ db: tdb.db, config: testConfig() });
    try {
      await worker.drain();
      expect(await outboxOrder()).toEqual([now]);
      expect((await notification(tdb.db, later)).status).toBe('created');
      expect((await notification(tdb.db, later)).attempts).toBe(0);

      // The scheduled time arrives.
      await tdb.db
        .updateTable('notifications')
        .set({ next_attempt_at: new Date(Date.now() - 1000) })
        .where('id', '=', later)
        .execute();
      await waitForStatus(tdb.db, later, 'delivered');
    } finally {
      await worker.stop();
    }
  });

  it('gives concurrent claimers disjoint rows', async () => {
    const ids = await insertNotifications(
      tdb.db,
      Array.from({ length: 50 }, () => email()),
    );
    const batches = await Promise.all(
      [1, 2, 3].map(() => claim(tdb.db, NOTIFICATION_QUEUE, { limit: 20, leaseSeconds: 60 })),
    );
    const claimed = batches.flat().map((r) => r.id);
    expect(new Set(claimed).size).toBe(claimed.length);
    expect(claimed.sort()).toEqual([...ids].sort());
  });

  it('skips rows another transaction has locked instead of waiting for them', async (ctx) => {
    if (tdb.kind !== 'postgres') return ctx.skip(); // PGlite has one connection: no second transaction to hold locks.
    const ids = await insertNotifications(
      tdb.db,
      Array.from({ length: 4 }, () => email()),
    );
    const locked = ids.slice(0, 2);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locking!: () => void;
    const isLocked = new Promise<void>((resolve) => (locking = resolve));
    const tx = tdb.db.transaction().execute(async (trx) => {
      await sql`SELECT id FROM notifications WHERE id = ANY(${locked}::uuid[]) FOR UPDATE`.execute(trx);
      locking();
      await held;
    });
    await isLocked;
    const claimed = await claim(tdb.db, NOTIFICATION_QUEUE, { limit: 10, leaseSeconds: 60 });
    release();
    await tx;
    expect(claimed.map((r) => r.id).sort()).toEqual(ids.slice(2).sort());
  });

  it('never has two workers send the same notification', async () => {
    const ids = await insertNotifications(tdb.db, [
      ...Array.from({ length: 150 }, () => email()),
      ...Array.from({ length: 150 }, () => sms()),
    ]);
    // On PostgreSQL the second worker gets its own pool, as a second replica would.
    const other = tdb.url ? await openDatabase({ databaseUrl: tdb.url }) : null;
    const config = testConfig({ WORKER_BATCH_SIZE: '10', WORKER_CONCURRENCY: '5' });
    const workers = [startWorker({ db: tdb.db, config }), startWorker({ db: other?.db ?? tdb.db, config })];
    try {
      await Promise.all(workers.map((w) => w.drain()));
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await other?.close();
    }
    const sent = await outboxOrder();
    expect(sent.length).toBe(ids.length);
    expect(new Set(sent).size).toBe(ids.length);
    const statuses = await tdb.db.selectFrom('notifications').select(['status', 'attempts']).execute();
    expect(statuses.every((r) => r.status === 'delivered' && r.attempts === 1)).toBe(true);
  });
});

describe('leases', () => {
  it('sends a notification again once the lease of a worker that died has run out', async () => {
    const orphan = await insertNotification(tdb.db, email());
    const held = await insertNotification(tdb.db, email());
    await tdb.db
      .updateTable('notifications')
      .set({ claimed_until: new Date(Date.now() - 60_000), attempts: 1 })
      .where('id', '=', orphan)
      .execute();
    // Still leased to a live worker.
    await tdb.db
      .updateTable('notifications')
      .set({ claimed_until: new Date(Date.now() + 600_000), attempts: 1 })
      .where('id', '=', held)
      .execute();

    const worker = startWorker({ db: tdb.db, config: testConfig() });
    await worker.drain();
    await worker.stop();
    const reclaimed = await notification(tdb.db, orphan);
    expect(reclaimed.status).toBe('delivered');
    expect(reclaimed.attempts).toBe(2);
    expect((await notification(tdb.db, held)).status).toBe('created');
    expect(await outboxOrder()).toEqual([orphan]);
  });

  it('ends a notification that keeps losing its lease as technical-failure', async () => {
    const poison = await insertNotification(tdb.db, email());
    await tdb.db
      .updateTable('notifications')
      .set({ claimed_until: new Date(Date.now() - 1000), attempts: 5 })
      .where('id', '=', poison)
      .execute();
    const worker = startWorker({ db: tdb.db, config: testConfig({ WORKER_MAX_ATTEMPTS: '5' }) });
    await worker.drain();
    await worker.stop();
    expect((await notification(tdb.db, poison)).status).toBe('technical-failure');
    expect(await outboxOrder()).toEqual([]);
  });

  it('does not let a worker whose lease ran out overwrite the outcome of the next one', async () => {
    const id = await insertNotification(tdb.db, email());
    const [first] = await claim(tdb.db, NOTIFICATION_QUEUE, { limit: 1, leaseSeconds: 60 });
    await tdb.db
      .updateTable('notifications')
      .set({ claimed_until: new Date(Date.now() - 1000) })
      .where('id', '=', id)
      .execute();
    const [second] = await claim(tdb.db, NOTIFICATION_QUEUE, { limit: 1, leaseSeconds: 60 });
    expect(second!.attempts).toBe(first!.attempts + 1);
    // The first worker, late, gives the row back: ignored, the second still holds it.
    await giveBack(tdb.db, NOTIFICATION_QUEUE, [first!]);
    const row = await notification(tdb.db, id);
    expect(row.claimed_until).not.toBeNull();
    expect(row.attempts).toBe(2);
  });

  it('stopped mid-batch, finishes what it started and leaves the rest to be sent', async () => {
    const ids = await insertNotifications(
      tdb.db,
      Array.from({ length: 5 }, () => email()),
    );
    const db = tdb.db;
    const sink = createSinkEmailProvider(db);
    let started!: () => void;
    const firstStarted = new Promise<void>((resolve) => (started = resolve));
    let unblock!: () => void;
    const gate = new Promise<void>((resolve) => (unblock = resolve));
    const slowEmail: EmailProvider = {
      name: 'slow',
      async send(msg) {
        started();
        await gate;
        return sink.send(msg);
      },
      close: async () => {},
    };
    const providers: Providers = { email: slowEmail, sms: createSinkSmsProvider(db), close: async () => {} };
    const worker = startWorker({ db, config: testConfig({ WORKER_CONCURRENCY: '1' }), providers });
    await firstStarted;
    const stopping = worker.stop();
    unblock();
    await stopping;

    const rows = await db.selectFrom('notifications').select(['id', 'status', 'claimed_until', 'attempts']).execute();
    const delivered = rows.filter((r) => r.status === 'delivered');
    expect(delivered.length).toBe(1);
    // The untried ones are free again at once, their claim not counted as an attempt.
    for (const r of rows.filter((r) => r.status === 'created')) {
      expect(r.claimed_until).toBeNull();
      expect(r.attempts).toBe(0);
    }

    const next = startWorker({ db, config: testConfig() });
    await next.drain();
    await next.stop();
    const sent = await outboxOrder();
    expect(sent.sort()).toEqual([...ids].sort());
  });
});

describe('test keys', () => {
  it('never reach a provider and end as the simulated recipient says', async () => {
    const cases: Array<[NotificationFixture, string]> = [
      [email({ keyType: 'test', to: 'someone@example.com' }), 'delivered'],
      [email({ keyType: 'test', to: 'temp-fail@simulator.notify' }), 'temporary-failure'],
      [email({ keyType: 'test', to: 'perm-fail@simulator.notify' }), 'permanent-failure'],
      [sms({ keyType: 'test', to: '07700900123' }), 'delivered'],
      [sms({ keyType: 'test', to: '07700900003' }), 'temporary-failure'],
      [sms({ keyType: 'test', to: '07700900002' }), 'permanent-failure'],
    ];
    const ids = await insertNotifications(
      tdb.db,
      cases.map(([n]) => n),
    );
    const worker = startWorker({ db: tdb.db, config: testConfig() });
    await worker.drain();
    await worker.stop();
    for (const [i, id] of ids.entries()) {
      const row = await notification(tdb.db, id);
      expect(row.status, `${cases[i]![0].to}`).toBe(cases[i]![1]);
      expect(row.provider).toBeNull();
    }
    expect(await outboxOrder()).toEqual([]);
  });
});
