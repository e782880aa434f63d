/**
 * What a service sent, per UTC day, template, channel, status and key type: the dashboard's figures. Days already
 * rolled up (notification_rollups, see retention.ts) come from notification_stats_daily, whose figures are final
 * even after the rows are gone; every other day is counted from the live rows. A (service, day) is read from one
 * side only, so nothing is counted twice, whatever retention has deleted so far.
 */
import { sql } from 'kysely';
import type { Db } from '../../platform/database/connection.ts';
import type { KeyType, TemplateType } from '../vocabulary.ts';
import { addDays, dayStart } from '../../platform/utc-days.ts';

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

/** A service's figures for the UTC days `from` … `to` (both included, YYYY-MM-DD), ordered by day. */
export async function notificationStatistics(
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
