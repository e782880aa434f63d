/**
 * Forgetting personal data on schedule (issue 3, §6). Each service keeps its notifications for its own
 * data_retention_days (3 to 90), counted in whole UTC days: on day T a service with retention r keeps the rows
 * created on days T−r … T and loses older ones. Before any row of a service's day goes, that day is rolled up into
 * notification_stats_daily (kept for good), and marked in notification_rollups so it is never counted twice.
 *
 * A day that every service's retention has passed loses its partition whole (DROP TABLE, repositories/notification-partitions.ts); inside
 * partitions still kept for other services, rows are deleted per service, in bounded batches, so that a large
 * backlog never holds locks for long and one run never grows without bound.
 *
 * Received texts and sink outbox rows follow the same per-service retention; callback deliveries that are no longer
 * pending go after CALLBACK_RETENTION_DAYS. Complaints and suppressions are kept.
 */
import type { Db } from '../../platform/database/connection.ts';
import { addDays } from '../../platform/utc-days.ts';
import { databaseToday, daysInDefaultPartition, listDayPartitions } from '../repositories/notification-partitions.ts';
import {
  deleteDayNotifications,
  deleteExpiredRows,
  deleteOldCallbackDeliveries,
  dropDayAndMarkPurged,
  forgetRollupsBefore,
  markDayPurged,
  purgedServicesPerDay,
  rollUpDay,
  type ServiceRetention,
  serviceRetentions,
  unpurgedServices,
} from '../repositories/notification-stats.ts';

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
  const services = await serviceRetentions(db);
  if (services.length === 0) return report;
  const today = await databaseToday(db);
  const limits = { batchSize, budget };
  await forgetNotifications(db, services, today, limits, report);
  const receivedTexts = await deleteInBatches(limits, (limit) => deleteExpiredRows(db, 'received_texts', today, limit));
  const outbox = await deleteInBatches(limits, (limit) => deleteExpiredRows(db, 'outbox', today, limit));
  const callbacks = await deleteInBatches(limits, (limit) =>
    deleteOldCallbackDeliveries(db, CALLBACK_RETENTION_DAYS, limit),
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
  await forgetRollupsBefore(db, oldest);

  const longest = Math.max(...services.map((s) => s.days));
  const shortest = Math.min(...services.map((s) => s.days));
  // Per day, how many of the services past it have no rows of it left: a day where that is all of them is done.
  const purgedPerDay = await purgedServicesPerDay(db, today);

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
      await dropDayAndMarkPurged(db, day);
      limits.budget.left -= 1;
      report.droppedDays.push(day);
      continue;
    }

    for (const serviceId of await unpurgedServices(db, day, due)) {
      const deleted = await deleteInBatches(limits, (limit) => deleteDayNotifications(db, serviceId, day, limit));
      report.notificationsDeleted += deleted.count;
      if (deleted.finished) await markDayPurged(db, serviceId, day);
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
async function deleteInBatches(limits: Limits, statement: (limit: number) => Promise<number>): Promise<Deleted> {
  let count = 0;
  let finished = false;
  while (limits.budget.left > 0) {
    limits.budget.left -= 1;
    const n = await statement(limits.batchSize);
    count += n;
    if (n < limits.batchSize) {
      finished = true;
      break;
    }
  }
  if (!finished) limits.budget.cutShort = true;
  return { count, finished };
}
