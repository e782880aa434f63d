/**
 * Retention and daily aggregates: each service loses its rows after its own retention period, what they were is
 * rolled up first and kept, statistics add the two without counting anything twice, and notifications live in day
 * partitions that the scheduler creates ahead and drops once every service is past them.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openDatabase, type Db } from '../../src/platform/database/connection.ts';
import { migrate } from '../../src/platform/database/migrate.ts';
import { MIGRATIONS } from '../../src/migrations.ts';
import { addDays } from '../../src/platform/utc-days.ts';
import {
  createDayPartition,
  databaseToday,
  listDayPartitions,
  partitionName,
} from '../../src/notify/repositories/notification-partitions.ts';
import { startScheduler, type Scheduler, type SchedulerRun } from '../../src/notify/delivery/scheduler.ts';
import { rollUpDay } from '../../src/notify/repositories/notification-stats.ts';
import { notificationStatistics, type DailyStatistic } from '../../src/notify/reporting/statistics.ts';
import { createServerDatabase, openTestDatabase, type TestDatabase } from '../support/database.ts';
import { createService, createTemplate, testConfig, type TemplateRef } from './fixtures.ts';

const config = testConfig({ SCHEDULER_INTERVAL_MS: '86400000' });

let tdb: TestDatabase;
let db: Db;
let today: string;
const schedulers: Scheduler[] = [];

beforeAll(async () => {
  tdb = await openTestDatabase();
  db = tdb.db;
  today = await databaseToday(db);
});

afterAll(async () => {
  await Promise.all(schedulers.map((s) => s.stop()));
  await tdb?.close();
});

function scheduler(retention?: { batchSize: number; maxBatches: number }): Scheduler {
  const s = startScheduler({ db, database: tdb, config, retention });
  schedulers.push(s);
  return s;
}

interface Service {
  id: string;
  email: TemplateRef;
  sms: TemplateRef;
}

async function service(name: string, retentionDays: number | null): Promise<Service> {
  const id = await createService(db, { name });
  if (retentionDays !== null)
    await db.updateTable('services').set({ data_retention_days: retentionDays }).where('id', '=', id).execute();
  return {
    id,
    email: await createTemplate(db, id, { type: 'email', subject: 'Hello', content: 'Hello' }),
    sms: await createTemplate(db, id, { type: 'sms', content: 'Your code' }),
  };
}

/** Noon UTC, `daysAgo` days before today (by the database's clock). */
function noon(daysAgo: number): Date {
  return new Date(`${addDays(today, -daysAgo)}T12:00:00Z`);
}

/** Rows of one service on one day: a mix of channels, statuses, key types and billable units. */
async function day(s: Service, daysAgo: number): Promise<string[]> {
  const at = noon(daysAgo);
  const rows = [
    { type: 'email', status: 'delivered', key: 'normal', units: 0 },
    { type: 'email', status: 'delivered', key: 'normal', units: 0 },
    { type: 'email', status: 'permanent-failure', key: 'normal', units: 0 },
    { type: 'sms', status: 'delivered', key: 'normal', units: 2 },
    { type: 'sms', status: 'sent', key: 'team', units: 1 },
    { type: 'sms', status: 'delivered', key: 'test', units: 3 },
  ] as const;
  const values = rows.map((r) => ({
    id: randomUUID(),
    service_id: s.id,
    template_id: r.type === 'email' ? s.email.id : s.sms.id,
    template_version: 1,
    key_type: r.key,
    notification_type: r.type,
    to: r.type === 'email' ? 'person@example.com' : '+16135550123',
    normalised_to: r.type === 'email' ? 'person@example.com' : '+16135550123',
    personalisation: JSON.stringify({ name: 'Personal data' }),
    body: 'Personal data',
    billable_units: r.units,
    status: r.status,
    next_attempt_at: at,
    created_at: at,
    sent_at: at,
    updated_at: at,
  }));
  await db.insertInto('notifications').values(values).execute();
  await db
    .insertInto('received_texts')
    .values({
      service_id: s.id,
      notify_number: '+16135550100',
      user_number: '+16135550123',
      content: 'STOP',
      created_at: at,
    })
    .execute();
  await db
    .insertInto('outbox')
    .values({
      notification_id: values[0]!.id,
      service_id: s.id,
      channel: 'email',
      recipient: 'person@example.com',
      body: 'Personal data',
      created_at: at,
    })
    .execute();
  return values.map((v) => v.id);
}

async function countRows(
  table: 'notifications' | 'received_texts' | 'outbox',
  serviceId: string,
  daysAgo: number,
): Promise<number> {
  const at = noon(daysAgo).toISOString();
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM ${sql.table(table)}
    WHERE service_id = ${serviceId} AND created_at = ${at}::timestamptz`.execute(db);
  return rows[0]!.n;
}

function stats(s: Service, fromDaysAgo: number): Promise<DailyStatistic[]> {
  return notificationStatistics(db, { serviceId: s.id, from: addDays(today, -fromDaysAgo), to: today });
}

/** The statistics a service's rows give for one day (see day()). */
function expectedDay(s: Service, daysAgo: number): DailyStatistic[] {
  const d = addDays(today, -daysAgo);
  const row = (
    templateId: string,
    notificationType: 'email' | 'sms',
    status: string,
    keyType: string,
    count: number,
    billableUnits: number,
  ) => ({ day: d, templateId, notificationType, status, keyType, count, billableUnits }) as DailyStatistic;
  return [
    row(s.email.id, 'email', 'delivered', 'normal', 2, 0),
    row(s.email.id, 'email', 'permanent-failure', 'normal', 1, 0),
    row(s.sms.id, 'sms', 'delivered', 'normal', 1, 2),
    row(s.sms.id, 'sms', 'delivered', 'test', 1, 3),
    row(s.sms.id, 'sms', 'sent', 'team', 1, 1),
  ];
}

function sorted(list: DailyStatistic[]): DailyStatistic[] {
  const key = (r: DailyStatistic) => [r.day, r.templateId, r.notificationType, r.status, r.keyType].join('|');
  return [...list].sort((a, b) => key(a).localeCompare(key(b)));
}

describe('retention per service', () => {
  let short: Service;
  let standard: Service;
  let long: Service;
  let before: Map<string, DailyStatistic[]>;
  let run: SchedulerRun | null;
  const days = [1, 5, 10, 40];

  beforeAll(async () => {
    short = await service('Three days', 3);
    standard = await service('Default seven days', null);
    long = await service('Thirty days', 30);
    for (const s of [short, standard, long]) for (const d of days) await day(s, d);
    // Callbacks: a finished one 8 days old goes; one still pending, and a recent finished one, stay.
    for (const [state, daysAgo] of [
      ['delivered', 8],
      ['pending', 8],
      ['failed', 2],
    ] as const) {
      await db
        .insertInto('callback_deliveries')
        .values({
          service_id: short.id,
          callback_type: 'delivery_status',
          subject_id: randomUUID(),
          state,
          created_at: noon(daysAgo),
        })
        .execute();
    }
    before = new Map(await Promise.all([short, standard, long].map(async (s) => [s.id, await stats(s, 45)] as const)));
    run = await scheduler().runOnce();
  });

  it('statistics before any retention are the live rows', () => {
    expect(sorted(before.get(short.id)!)).toEqual(sorted(days.flatMap((d) => expectedDay(short, d))));
  });

  it('deletes each service’s notifications, received texts and outbox rows after its own retention period', async () => {
    expect(run?.retention?.unfinished).toBe(false);
    const kept = async (s: Service, daysAgo: number) => [
      await countRows('notifications', s.id, daysAgo),
      await countRows('received_texts', s.id, daysAgo),
      await countRows('outbox', s.id, daysAgo),
    ];
    const present = [6, 1, 1];
    const gone = [0, 0, 0];
    expect(await kept(short, 1)).toEqual(present);
    expect(await kept(short, 5)).toEqual(gone);
    expect(await kept(short, 10)).toEqual(gone);
    expect(await kept(standard, 5)).toEqual(present);
    expect(await kept(standard, 10)).toEqual(gone);
    expect(await kept(long, 10)).toEqual(present);
    for (const s of [short, standard, long]) expect(await kept(s, 40)).toEqual(gone);
  });

  it('keeps the figures of deleted days: statistics are the same as before, nothing counted twice', async () => {
    for (const s of [short, standard, long]) expect(sorted(await stats(s, 45))).toEqual(sorted(before.get(s.id)!));
    const stored = await db
      .selectFrom('notification_stats_daily')
      .select(sql<number>`count(*)::int`.as('n'))
      .executeTakeFirstOrThrow();
    // short: 3 days rolled up, standard: 2, long: 1; five figure rows a day.
    expect(stored.n).toBe((3 + 2 + 1) * 5);
  });

  it('is idempotent: running again, or rolling a day up again, changes no figure', async () => {
    const again = await scheduler().runOnce();
    expect(again?.retention).toMatchObject({ rolledUp: 0, notificationsDeleted: 0, droppedDays: [] });
    const fiveDaysAgo = addDays(today, -5);
    // short's day is rolled up already: skipped. The others' rows are all still there: rolled up now, and
    // statistics read those days from the figures instead of the rows, with the same result.
    expect((await rollUpDay(db, fiveDaysAgo, [short.id, standard.id, long.id])).sort()).toEqual(
      [standard.id, long.id].sort(),
    );
    expect(await rollUpDay(db, fiveDaysAgo, [short.id, standard.id, long.id])).toEqual([]);
    for (const s of [short, standard, long]) expect(sorted(await stats(s, 45))).toEqual(sorted(before.get(s.id)!));
  });

  it('deletes finished callback deliveries after 7 days and keeps pending ones', async () => {
    const left = await db
      .selectFrom('callback_deliveries')
      .select(['state'])
      .where('service_id', '=', short.id)
      .orderBy('state')
      .execute();
    expect(left.map((c) => c.state)).toEqual(['failed', 'pending']);
  });
});

describe('bounded batches', () => {
  it('spreads a backlog over several runs, with statistics right at every step', async () => {
    const s = await service('Backlog', 3);
    for (let i = 0; i < 5; i++) await day(s, 6); // 30 rows on one day
    const expected = sorted(await stats(s, 10));
    const small = scheduler({ batchSize: 4, maxBatches: 3 });
    let runs = 0;
    for (;;) {
      const r = await small.runOnce();
      runs += 1;
      expect(sorted(await stats(s, 10))).toEqual(expected);
      if (!r?.retention?.unfinished) break;
      expect(runs).toBeLessThan(50);
    }
    expect(runs).toBeGreaterThan(1);
    expect(await countRows('notifications', s.id, 6)).toBe(0);
  });
});

describe('day partitions', () => {
  it('the notifications table is partitioned by day, from today to three days ahead', async () => {
    const partitions = await listDayPartitions(db);
    for (let ahead = 0; ahead <= 3; ahead++) expect(partitions).toContain(addDays(today, ahead));
  });

  it('creates missing partitions ahead, moving rows that waited in the default partition', async () => {
    const ahead = addDays(today, 3);
    await sql`DROP TABLE ${sql.table(partitionName(ahead))}`.execute(db);
    const s = await service('Ahead', null);
    const id = randomUUID();
    await db
      .insertInto('notifications')
      .values({
        id,
        service_id: s.id,
        template_id: s.email.id,
        template_version: 1,
        key_type: 'normal',
        notification_type: 'email',
        to: 'a@example.com',
        normalised_to: 'a@example.com',
        body: 'Hi',
        next_attempt_at: new Date(),
        created_at: new Date(`${ahead}T08:00:00Z`),
      })
      .execute();
    expect(await partitionOf(id)).toBe('notifications_default');

    const run = await scheduler().runOnce();
    expect(run?.partitionsCreated).toEqual([ahead]);
    expect(await partitionOf(id)).toBe(partitionName(ahead));
    expect(await listDayPartitions(db)).toContain(ahead);
  });

  it('drops a day’s partition once every service is past it, after rolling it up', async () => {
    // Every service so far keeps at most 30 days: a day 35 days ago is past all of them.
    const s = await service('Old partition', 7);
    const old = addDays(today, -35);
    await day(s, 35);
    await createDayPartition(db, old);
    expect(await listDayPartitions(db)).toContain(old);
    const figures = sorted(await stats(s, 40));

    const run = await scheduler().runOnce();
    expect(run?.retention?.droppedDays).toEqual([old]);
    expect(await listDayPartitions(db)).not.toContain(old);
    expect(await countRows('notifications', s.id, 35)).toBe(0);
    expect(sorted(await stats(s, 40))).toEqual(figures);
    expect(figures).toEqual(sorted(expectedDay(s, 35)));
  });

  it('keeps a partition while one service still keeps its day, deleting only the rows of services past it', async () => {
    const brief = await service('Brief', 3);
    const lasting = await service('Lasting', 90);
    const d = addDays(today, -20);
    await day(brief, 20);
    await day(lasting, 20);
    await createDayPartition(db, d);

    const run = await scheduler().runOnce();
    expect(run?.retention?.droppedDays).toEqual([]);
    expect(await listDayPartitions(db)).toContain(d);
    expect(await countRows('notifications', brief.id, 20)).toBe(0);
    expect(await countRows('notifications', lasting.id, 20)).toBe(6);
    expect(sorted(await stats(brief, 25))).toEqual(sorted(expectedDay(brief, 20)));
    expect(sorted(await stats(lasting, 25))).toEqual(sorted(expectedDay(lasting, 20)));
  });

  it('a job’s rows stay unique across the partitioned table', async () => {
    const s = await service('Jobs', null);
    const jobId = randomUUID();
    const createdAt = new Date();
    const row = () => ({
      id: randomUUID(),
      service_id: s.id,
      template_id: s.email.id,
      template_version: 1,
      key_type: 'normal' as const,
      notification_type: 'email' as const,
      to: 'a@example.com',
      normalised_to: 'a@example.com',
      body: 'Hi',
      next_attempt_at: createdAt,
      created_at: createdAt,
      job_id: jobId,
      job_row_number: 1,
    });
    await db.insertInto('notifications').values(row()).execute();
    await expect(db.insertInto('notifications').values(row()).execute()).rejects.toThrow(/duplicate key/);
  });

  it('refuses a retention period outside 3 to 90 days', async () => {
    const s = await service('Bounds', null);
    for (const days of [2, 91]) {
      await expect(
        db.updateTable('services').set({ data_retention_days: days }).where('id', '=', s.id).execute(),
      ).rejects.toThrow(/services_data_retention_days/);
    }
  });
});

async function partitionOf(id: string): Promise<string> {
  const { rows } = await sql<{
    part: string;
  }>`SELECT tableoid::regclass::text AS part FROM notifications WHERE id = ${id}`.execute(db);
  return rows[0]!.part;
}

describe('migrating an existing database', () => {
  it('moves the rows of the unpartitioned table into day partitions, keeping every index', async () => {
    const scratch = process.env.DATABASE_URL ? await createServerDatabase(process.env.DATABASE_URL) : null;
    const handle = await openDatabase({ databaseUrl: scratch?.url ?? null });
    try {
      // The schema as it was before 004, with rows in it.
      const earlier = MIGRATIONS.flatMap((source) =>
        readdirSync(source.dir)
          .filter((f) => /^\d+_[\w-]+\.sql$/.test(f) && f < '004')
          .map((file) => ({ file, source })),
      ).sort((x, y) => x.file.localeCompare(y.file) || MIGRATIONS.indexOf(x.source) - MIGRATIONS.indexOf(y.source));
      await handle.withScriptRunner(async (run) => {
        await run(
          'CREATE TABLE schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
        );
        for (const { file, source } of earlier) {
          const text = readFileSync(path.join(source.dir, file), 'utf8');
          await run(
            `BEGIN;\n${text}\n;INSERT INTO schema_migrations (name) VALUES ('${source.product}/${file}');\nCOMMIT;`,
          );
        }
      });
      const old = handle.db;
      const serviceId = await createService(old, { name: 'Before partitions' });
      const template = await createTemplate(old, serviceId, { type: 'email', subject: 'Hi', content: 'Hi' });
      const at = (daysAgo: number) => new Date(`${addDays(today, -daysAgo)}T09:30:00Z`);
      const rows = [2, 2, 100].map((daysAgo, i) => ({
        id: randomUUID(),
        service_id: serviceId,
        template_id: template.id,
        template_version: 1,
        key_type: 'normal' as const,
        notification_type: 'email' as const,
        to: 'a@example.com',
        normalised_to: 'a@example.com',
        body: 'Hi',
        next_attempt_at: at(daysAgo),
        created_at: at(daysAgo),
        job_id: i < 2 ? randomUUID() : null,
        job_row_number: i < 2 ? 1 : null,
      }));
      await old.insertInto('notifications').values(rows).execute();

      expect(await migrate(handle, MIGRATIONS)).toContain('notify/004_retention.sql');

      const placed = await sql<{
        id: string;
        part: string;
      }>`SELECT id, tableoid::regclass::text AS part FROM notifications`.execute(old);
      const partOf = new Map(placed.rows.map((r) => [r.id, r.part]));
      expect(partOf.size).toBe(3);
      expect(partOf.get(rows[0]!.id)).toBe(partitionName(addDays(today, -2)));
      expect(partOf.get(rows[1]!.id)).toBe(partitionName(addDays(today, -2)));
      // Older than the longest retention: waits in the default partition for the scheduler to delete it.
      expect(partOf.get(rows[2]!.id)).toBe('notifications_default');
      expect(await listDayPartitions(old)).toContain(addDays(today, 3));

      // Every index of the old table exists on the parent and on each partition.
      const { rows: indexes } = await sql<{ table: string; n: number }>`
        SELECT tablename AS table, count(*)::int AS n FROM pg_indexes
        WHERE tablename = 'notifications' OR tablename LIKE 'notifications\_p%' OR tablename = 'notifications_default'
        GROUP BY tablename`.execute(old);
      // pkey, due, listing, client reference, provider reference, job row, in flight (and any later migration's).
      expect(new Set(indexes.map((i) => i.n)).size).toBe(1);
      expect(indexes[0]!.n).toBeGreaterThanOrEqual(7);
    } finally {
      await handle.close();
      await scratch?.drop();
    }
  });
});
