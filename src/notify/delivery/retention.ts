/**
 * Forgetting personal data on schedule (issue 3, §6). Each service keeps its notifications for its own
 * data_retention_days (3 to 90), counted in whole UTC days: on day T a service with retention r keeps the rows
 * created on days T−r … T and loses older ones. Before any row of a service's day goes, that day is rolled up into
 * notification_stats_daily (kept for good), and marked in notification_rollups so it is never counted twice.
 *
 * A day that every service's retention has passed loses its partition whole (DROP TABLE, db/partitions.ts); inside
 * partitions still kept for other services, rows are deleted per service, in bounded batches, so that a large
 * backlog never holds locks for long and one run never grows without bound.
 *
 * Received texts and sink outbox rows follow the same per-service retention; callback deliveries that are no longer
 * pending go after CALLBACK_RETENTION_DAYS. Complaints and suppressions are kept.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../../platform/database/connection.ts';
import {
  addDays,
  databaseToday,
  dayStart,
  daysInDefaultPartition,
  dropDayPartition,
  listDayPartitions,
} from './partitions.ts';

export const CALLBACK_RETENTION_DAYS = 7;

export interface RetentionOptions {
  /** Rows per DELETE. */
  batchSize?: number;
  /** DELETE statements per run, over all tables; what is left waits for the next run. */
  maxBatches?: number;
}

export interface RetentionReport {
  /** Days whose partition was dropped. */
  droppedDays: string[];
  /** (service, day) pairs rolled up in this run. */
  rolledUp: number;
  notificationsDeleted: number;
  receivedTextsDeleted: number;
  outboxDeleted: number;
  callbacksDeleted: number;
  /** True when the batch budget ran out before everything due was deleted. */
  unfinished: boolean;
}

interface ServiceRetention {
  id: string;
  days: number;
}

/**
 * Rolls up one UTC day of the given services into notification_stats_daily and marks each (service, day) rolled
 * up, in one statement. Pairs already marked are skipped, so running it again never counts a row twice: their rows
 * may be partly deleted since, and their figures stay as they were. For unmarked pairs any figures present are
 * replaced. A service with no row that day is marked as already purged. Resolves to the services that had rows.
 */
export async function rollUpDay(db: Db, day: string, serviceIds: readonly string[]): Promise<string[]> {
  if (serviceIds.length === 0) return [];
  const { rows } = await sql<{ service_id: string; purged_at: Date | null }>`
    WITH due AS (
      SELECT s.id AS service_id FROM unnest(${serviceIds}::uuid[]) AS s(id)
      WHERE NOT EXISTS (SELECT 1 FROM notification_rollups r WHERE r.service_id = s.id AND r.day = ${day}::date)
    ),
    figures AS (
      SELECT n.service_id, n.template_id, n.notification_type, n.status, n.key_type,
             count(*)::int AS notification_count, coalesce(sum(n.billable_units), 0)::int AS billable_units
      FROM notifications n
      WHERE n.service_id IN (SELECT service_id FROM due)
        AND n.created_at >= ${dayStart(day)}::timestamptz AND n.created_at < ${dayStart(addDays(day, 1))}::timestamptz
      GROUP BY n.service_id, n.template_id, n.notification_type, n.status, n.key_type
    ),
    stored AS (
      INSERT INTO notification_stats_daily
        (service_id, day, template_id, notification_type, status, key_type, notification_count, billable_units)
      SELECT service_id, ${day}::date, template_id, notification_type, status, key_type, notification_count, billable_units
      FROM figures
      ON CONFLICT (service_id, day, template_id, notification_type, status, key_type)
      DO UPDATE SET notification_count = excluded.notification_count, billable_units = excluded.billable_units
    )
    INSERT INTO notification_rollups (service_id, day, purged_at)
    SELECT d.service_id, ${day}::date,
           CASE WHEN EXISTS (SELECT 1 FROM figures f WHERE f.service_id = d.service_id) THEN NULL ELSE now() END
    FROM due d
    ON CONFLICT (service_id, day) DO NOTHING
    RETURNING service_id, purged_at`.execute(db);
  return rows.filter((r) => r.purged_at === null).map((r) => r.service_id);
}

/** Runs retention once: rolls up, drops and deletes what each service's retention has passed. */
export async function applyRetention(db: Db, opts: RetentionOptions = {}): Promise<RetentionReport> {
  const batchSize = opts.batchSize ?? 5_000;
  const budget = { left: opts.maxBatches ?? 200, cutShort: false };
  const report: RetentionReport = {
    droppedDays: [],
    rolledUp: 0,
    notificationsDeleted: 0,
    receivedTextsDeleted: 0,
    outboxDeleted: 0,
    callbacksDeleted: 0,
    unfinished: false,
  };
  const services = (await db
    .selectFrom('services')
    .select(['id', 'data_retention_days as days'])
    .execute()) as ServiceRetention[];
  if (services.length === 0) return report;
  const today = await databaseToday(db);
  const limits = { batchSize, budget };
  await forgetNotifications(db, services, today, limits, report);
  // The other tables in one statement per batch across all services: a LATERAL probe per service on its
  // (service_id, created_at) index, so the cost is one index look-up per service, not a scan of the table.
  const cutoff = sql`((${today}::date - s.data_retention_days)::timestamp AT TIME ZONE 'UTC')`;
  const receivedTexts = await deleteInBatches(
    db,
    limits,
    (limit) => sql`
    DELETE FROM received_texts WHERE id IN (
      SELECT old.id FROM services s CROSS JOIN LATERAL (
        SELECT id FROM received_texts WHERE service_id = s.id AND created_at < ${cutoff} LIMIT ${limit}) AS old
      LIMIT ${limit})`,
  );
  const outbox = await deleteInBatches(
    db,
    limits,
    (limit) => sql`
    DELETE FROM outbox WHERE id IN (
      SELECT old.id FROM services s CROSS JOIN LATERAL (
        SELECT id FROM outbox WHERE service_id = s.id AND created_at < ${cutoff} LIMIT ${limit}) AS old
      LIMIT ${limit})`,
  );
  const callbacks = await deleteInBatches(
    db,
    limits,
    (limit) => sql`
    DELETE FROM callback_deliveries WHERE id IN (
      SELECT old.id FROM services s CROSS JOIN LATERAL (
        SELECT id FROM callback_deliveries
        WHERE service_id = s.id AND state <> 'pending' AND created_at < now() - ${CALLBACK_RETENTION_DAYS} * interval '1 day'
        LIMIT ${limit}) AS old
      LIMIT ${limit})`,
  );
  report.receivedTextsDeleted = receivedTexts.count;
  report.outboxDeleted = outbox.count;
  report.callbacksDeleted = callbacks.count;
  report.unfinished = budget.cutShort;
  return report;
}

/** Notifications, day by day from the oldest still held: roll up, then drop the day's partition or delete rows. */
async function forgetNotifications(
  db: Db,
  services: ServiceRetention[],
  today: string,
  limits: Limits,
  report: RetentionReport,
): Promise<void> {
  const partitions = await listDayPartitions(db);
  const defaultDays = await daysInDefaultPartition(db);
  const oldest = [partitions[0], defaultDays[0]].filter((d): d is string => d !== undefined).sort()[0];
  if (!oldest) return;
  // Marks of days older than any row left serve no purpose: statistics find no live rows there either way.
  await db.deleteFrom('notification_rollups').where('day', '<', oldest).execute();

  const longest = Math.max(...services.map((s) => s.days));
  const shortest = Math.min(...services.map((s) => s.days));
  // Per day, how many of the services past it have no rows of it left: a day where that is all of them is done.
  const purgedPerDay = new Map(
    (
      await sql<{ day: string; purged: number }>`
        SELECT r.day::text AS day, count(*)::int AS purged
        FROM notification_rollups r JOIN services s ON s.id = r.service_id
        WHERE r.purged_at IS NOT NULL AND r.day < ${today}::date - s.data_retention_days
        GROUP BY r.day`.execute(db)
    ).rows.map((r) => [r.day, r.purged]),
  );

  // A day D is past a service's retention when D < today − days.
  for (let day = oldest; day < addDays(today, -shortest); day = addDays(day, 1)) {
    if (limits.budget.left <= 0) {
      limits.budget.cutShort = true;
      return;
    }
    const due = services.filter((s) => day < addDays(today, -s.days)).map((s) => s.id);
    if ((purgedPerDay.get(day) ?? 0) >= due.length) continue; // every due service's rows of that day are gone

    const withRows = await rollUpDay(db, day, due);
    report.rolledUp += withRows.length;

    if (day < addDays(today, -longest) && partitions.includes(day)) {
      // Every service is past this day: the partition goes whole. A default partition never holds rows of a day
      // that has its own partition (createDayPartition moves them), so nothing of the day is left after this.
      await db.transaction().execute(async (trx) => {
        await dropDayPartition(trx, day);
        await trx
          .updateTable('notification_rollups')
          .set({ purged_at: new Date() })
          .where('day', '=', day)
          .where('purged_at', 'is', null)
          .execute();
      });
      limits.budget.left -= 1;
      report.droppedDays.push(day);
      continue;
    }

    const unpurged = await db
      .selectFrom('notification_rollups')
      .select('service_id')
      .where('day', '=', day)
      .where('purged_at', 'is', null)
      .where('service_id', 'in', due)
      .execute();
    const from = dayStart(day);
    const to = dayStart(addDays(day, 1));
    for (const { service_id: serviceId } of unpurged) {
      // The day's bounds on the outer statement too: it then touches that day's partition alone, by primary key.
      const deleted = await deleteInBatches(
        db,
        limits,
        (limit) => sql`
        DELETE FROM notifications
        WHERE created_at >= ${from}::timestamptz AND created_at < ${to}::timestamptz
          AND id = ANY(ARRAY(
            SELECT id FROM notifications
            WHERE service_id = ${serviceId} AND created_at >= ${from}::timestamptz AND created_at < ${to}::timestamptz
            LIMIT ${limit}))`,
      );
      report.notificationsDeleted += deleted.count;
      if (deleted.finished) {
        await db
          .updateTable('notification_rollups')
          .set({ purged_at: new Date() })
          .where('service_id', '=', serviceId)
          .where('day', '=', day)
          .execute();
      }
    }
  }
}

interface Limits {
  batchSize: number;
  /** Statements left in this run; cutShort: some work was left for the next run. */
  budget: { left: number; cutShort: boolean };
}

interface Deleted {
  count: number;
  /** The last statement found fewer rows than a batch: nothing of this kind is left. */
  finished: boolean;
}

/**
 * Runs a `DELETE … LIMIT n` until it deletes fewer than n rows or the run's budget of statements is spent; each
 * statement commits on its own, so locks are held for one batch at a time.
 */
async function deleteInBatches(
  db: Db,
  limits: Limits,
  statement: (limit: number) => RawBuilder<unknown>,
): Promise<Deleted> {
  let count = 0;
  let finished = false;
  while (limits.budget.left > 0) {
    limits.budget.left -= 1;
    const result = await statement(limits.batchSize).execute(db);
    const n = Number(result.numAffectedRows ?? 0);
    count += n;
    if (n < limits.batchSize) {
      finished = true;
      break;
    }
  }
  if (!finished) limits.budget.cutShort = true;
  return { count, finished };
}
