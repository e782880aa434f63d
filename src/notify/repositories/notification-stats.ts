/**
 * Daily figures (what the dashboard reads) and retention's statements. notification_stats_daily keeps, for good, what each service's
 * notifications of a UTC day were (rolled up before any of them goes); notification_rollups marks each (service, day)
 * rolled up, and purged once its rows are gone. The deletes of retention (delivery/retention.ts decides what goes
 * when) are bounded by `limit` rows and commit one by one.
 */
import { sql } from 'kysely';
import type { Db } from '../../platform/database/connection.ts';
import type { KeyType, TemplateType } from '../vocabulary.ts';
import { addDays, dayStart } from '../../platform/utc-days.ts';
import { dropDayPartition } from './notification-partitions.ts';

/** A service's figures of one UTC day, template, channel, status and key type. */
export interface DailyStatistic {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  templateId: string;
  notificationType: TemplateType;
  status: string;
  keyType: KeyType;
  count: number;
  billableUnits: number;
}

/**
 * A service's figures for the UTC days `from` … `to` (both included, YYYY-MM-DD), ordered by day. Days rolled up
 * come from notification_stats_daily, every other day from the live rows: a (service, day) is read from one side
 * only, so nothing is counted twice, whatever retention has deleted so far.
 */
export async function findDailyStatistics(
  db: Db,
  query: { serviceId: string; from: string; to: string },
): Promise<DailyStatistic[]> {
  const start = dayStart(query.from);
  const end = dayStart(addDays(query.to, 1));
  const { rows } = await sql<{
    day: string;
    template_id: string;
    notification_type: TemplateType;
    status: string;
    key_type: KeyType;
    count: number;
    billable_units: number;
  }>`
    SELECT day::text AS day, template_id, notification_type, status, key_type,
           sum(count)::int AS count, sum(billable_units)::int AS billable_units
    FROM (
      SELECT s.day, s.template_id, s.notification_type, s.status, s.key_type,
             s.notification_count AS count, s.billable_units
      FROM notification_stats_daily s
      WHERE s.service_id = ${query.serviceId} AND s.day BETWEEN ${query.from}::date AND ${query.to}::date
      UNION ALL
      SELECT (n.created_at AT TIME ZONE 'UTC')::date, n.template_id, n.notification_type, n.status, n.key_type,
             1, n.billable_units
      FROM notifications n
      WHERE n.service_id = ${query.serviceId}
        AND n.created_at >= ${start}::timestamptz AND n.created_at < ${end}::timestamptz
        AND NOT EXISTS (
          SELECT 1 FROM notification_rollups r
          WHERE r.service_id = n.service_id AND r.day = (n.created_at AT TIME ZONE 'UTC')::date)
    ) AS figures
    GROUP BY day, template_id, notification_type, status, key_type
    ORDER BY day, template_id, notification_type, status, key_type`.execute(db);
  return rows.map((r) => ({
    day: r.day,
    templateId: r.template_id,
    notificationType: r.notification_type,
    status: r.status,
    keyType: r.key_type,
    count: r.count,
    billableUnits: r.billable_units,
  }));
}

export interface ServiceRetention {
  id: string;
  days: number;
}

/** Every service and how many days it keeps its data. */
export async function serviceRetentions(db: Db): Promise<ServiceRetention[]> {
  return (await db
    .selectFrom('services')
    .select(['id', 'data_retention_days as days'])
    .execute()) as ServiceRetention[];
}

/** The longest any service keeps its data, in days; 0 without services. */
export async function longestRetentionDays(db: Db): Promise<number> {
  const longest = await db
    .selectFrom('services')
    .select(sql<number>`coalesce(max(data_retention_days), 0)::int`.as('days'))
    .executeTakeFirstOrThrow();
  return longest.days;
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

/** Forgets the marks of days before `day`. */
export async function forgetRollupsBefore(db: Db, day: string): Promise<void> {
  await db.deleteFrom('notification_rollups').where('day', '<', day).execute();
}

/** Per day past some service's retention, how many of those services have no rows of it left. */
export async function purgedServicesPerDay(db: Db, today: string): Promise<Map<string, number>> {
  return new Map(
    (
      await sql<{ day: string; purged: number }>`
        SELECT r.day::text AS day, count(*)::int AS purged
        FROM notification_rollups r JOIN services s ON s.id = r.service_id
        WHERE r.purged_at IS NOT NULL AND r.day < ${today}::date - s.data_retention_days
        GROUP BY r.day`.execute(db)
    ).rows.map((r) => [r.day, r.purged]),
  );
}

/** Drops the day's partition, with every row of that day, and marks the day purged for every service. */
export async function dropDayAndMarkPurged(db: Db, day: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await dropDayPartition(trx, day);
    await trx
      .updateTable('notification_rollups')
      .set({ purged_at: new Date() })
      .where('day', '=', day)
      .where('purged_at', 'is', null)
      .execute();
  });
}

/** Of these services, those whose rows of the day are rolled up and not yet all deleted. */
export async function unpurgedServices(db: Db, day: string, serviceIds: readonly string[]): Promise<string[]> {
  const rows = await db
    .selectFrom('notification_rollups')
    .select('service_id')
    .where('day', '=', day)
    .where('purged_at', 'is', null)
    .where('service_id', 'in', serviceIds)
    .execute();
  return rows.map((r) => r.service_id);
}

/** Marks the service's rows of the day all deleted. */
export async function markDayPurged(db: Db, serviceId: string, day: string): Promise<void> {
  await db
    .updateTable('notification_rollups')
    .set({ purged_at: new Date() })
    .where('service_id', '=', serviceId)
    .where('day', '=', day)
    .execute();
}

/** Deletes up to `limit` of the service's notifications of the day; resolves how many went. */
export async function deleteDayNotifications(db: Db, serviceId: string, day: string, limit: number): Promise<number> {
  const from = dayStart(day);
  const to = dayStart(addDays(day, 1));
  // The day's bounds on the outer statement too: it then touches that day's partition alone, by primary key.
  return deleted(
    await sql`
        DELETE FROM notifications
        WHERE created_at >= ${from}::timestamptz AND created_at < ${to}::timestamptz
          AND id = ANY(ARRAY(
            SELECT id FROM notifications
            WHERE service_id = ${serviceId} AND created_at >= ${from}::timestamptz AND created_at < ${to}::timestamptz
            LIMIT ${limit}))`.execute(db),
  );
}

// The other tables in one statement per batch across all services: a LATERAL probe per service on its
// (service_id, created_at) index, so the cost is one index look-up per service, not a scan of the table.

/** The first instant each service `s` no longer keeps on `today`. */
const cutoff = (today: string) => sql`((${today}::date - s.data_retention_days)::timestamp AT TIME ZONE 'UTC')`;

/** Deletes up to `limit` received texts or sink outbox rows past their service's retention; resolves how many went. */
export async function deleteExpiredRows(
  db: Db,
  table: 'received_texts' | 'outbox',
  today: string,
  limit: number,
): Promise<number> {
  return deleted(
    await sql`
    DELETE FROM ${sql.table(table)} WHERE id IN (
      SELECT old.id FROM services s CROSS JOIN LATERAL (
        SELECT id FROM ${sql.table(table)} WHERE service_id = s.id AND created_at < ${cutoff(today)} LIMIT ${limit}) AS old
      LIMIT ${limit})`.execute(db),
  );
}

/** Deletes up to `limit` callback deliveries no longer pending and older than `days`; resolves how many went. */
export async function deleteOldCallbackDeliveries(db: Db, days: number, limit: number): Promise<number> {
  return deleted(
    await sql`
    DELETE FROM callback_deliveries WHERE id IN (
      SELECT old.id FROM services s CROSS JOIN LATERAL (
        SELECT id FROM callback_deliveries
        WHERE service_id = s.id AND state <> 'pending' AND created_at < now() - ${days} * interval '1 day'
        LIMIT ${limit}) AS old
      LIMIT ${limit})`.execute(db),
  );
}

function deleted(result: { numAffectedRows?: bigint }): number {
  return Number(result.numAffectedRows ?? 0);
}
