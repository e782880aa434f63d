/**
 * What a service sent, per UTC day, template, channel, status and key type: the dashboard's figures. Days already
 * rolled up (notification_rollups, see retention.ts) come from notification_stats_daily, whose figures are final
 * even after the rows are gone; every other day is counted from the live rows. A (service, day) is read from one
 * side only, so nothing is counted twice, whatever retention has deleted so far.
 */
import type { Db } from '../../platform/database/connection.ts';
import { type DailyStatistic, findDailyStatistics } from '../repositories/notification-stats.ts';

export type { DailyStatistic };

/** A service's figures for the UTC days `from` … `to` (both included, YYYY-MM-DD), ordered by day. */
export function notificationStatistics(
  db: Db,
  query: { serviceId: string; from: string; to: string },
): Promise<DailyStatistic[]> {
  return findDailyStatistics(db, query);
}
