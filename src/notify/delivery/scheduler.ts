/**
 * The scheduler (worker role): every config.scheduler.intervalMs, one process at a time
 *   1. times out messages still `sending` or `pending` long after they went to a provider (issue 3, §2),
 *   2. keeps the day partitions of `notifications` ahead of the clock (repositories/notification-partitions.ts),
 *   3. applies each service's retention after rolling its days up (retention.ts).
 *
 * One leader at a time: on PostgreSQL each run first takes a session advisory lock with pg_try_advisory_lock on a
 * connection of its own, held for that run only and given back at its end. A replica that finds it taken skips the
 * run. The lock is session-scoped, not transaction-scoped, because a run is many short transactions (bounded batches,
 * each committed on its own) and must not become one long one; and it is taken per run rather than held for the
 * process's life, so no connection is pinned between runs. If the lock's connection dies mid-run the lock goes with
 * it and another replica may start a run alongside: harmless, since each step is idempotent (the timeout UPDATE is
 * conditional on the status, a rolled-up day is never recomputed, deletes only delete).
 * PGlite is one process by construction, with a single shared connection that must not be held: no lock there.
 * (Behind a transaction-mode pooler such as PgBouncer, session locks do not hold; point the worker at the server.)
 */
import type { Logger } from '../../platform/queue/background.ts';
import { type PeriodicWork, start } from '../../platform/queue/runner.ts';
import type { Config } from '../../platform/config.ts';
import type { Db, DbHandle } from '../../platform/database/connection.ts';
import { addDays } from '../../platform/utc-days.ts';
import {
  createDayPartition,
  databaseToday,
  daysInDefaultPartition,
  listDayPartitions,
} from '../repositories/notification-partitions.ts';
import { longestRetentionDays } from '../repositories/notification-stats.ts';
import { timeOutStaleMessages } from '../repositories/notifications.ts';
import { applyRetention, type RetentionOptions, type RetentionReport } from './retention.ts';
import { deleteExpiredIdempotencyKeys } from '../repositories/idempotency-keys.ts';

/** Distinct from migrate.ts's lock (4_206_011). */
const LEADER_LOCK_ID = 4_206_012;
/** Partitions exist for today and this many days ahead. */
export const PARTITION_DAYS_AHEAD = 3;

export interface SchedulerOptions {
  db: Db;
  database: DbHandle;
  config: Pick<Config, 'scheduler'>;
  logger?: Logger;
  /** Batch sizes of retention (tests make them small). */
  retention?: RetentionOptions;
}

export interface SchedulerRun {
  timedOut: number;
  partitionsCreated: string[];
  retention: RetentionReport | null;
  /** Idempotency-Keys forgotten, their 24 hours over. */
  idempotencyKeysForgotten: number;
}

export interface Scheduler {
  /** Stops the loop and waits for a run in progress to end. */
  stop(): Promise<void>;
  /**
   * Runs once now (after any run in progress). Resolves to what it did, or null when another process holds the
   * leader lock.
   */
  runOnce(): Promise<SchedulerRun | null>;
}

/** Runs on demand, one at a time; settled() resolves when the last one has ended. */
export type SchedulerRuns = Pick<Scheduler, 'runOnce'> & { settled(): Promise<unknown> };

/** The scheduler's catalogue entry: a run of its steps every config.scheduler.intervalMs, as leader. */
export function schedulerWork(scheduler: SchedulerRuns, intervalMs: number): PeriodicWork {
  return {
    kind: 'periodic',
    name: 'scheduler run',
    everyMs: intervalMs,
    run: () => scheduler.runOnce(),
    settled: () => scheduler.settled(),
  };
}

/** Starts the scheduler on its own (tests); a process starts it with the rest of the catalogue. */
export function startScheduler(opts: SchedulerOptions): Scheduler {
  const scheduler = createScheduler(opts);
  const running = start(schedulerWork(scheduler, opts.config.scheduler.intervalMs), { logger: opts.logger });
  return { runOnce: scheduler.runOnce, stop: () => running.stop() };
}

export function createScheduler(opts: SchedulerOptions): SchedulerRuns {
  const { db, database, config, logger } = opts;
  // Runs never overlap within a process: the loop and runOnce() queue behind each other.
  let last: Promise<unknown> = Promise.resolve();

  function runOnce(): Promise<SchedulerRun | null> {
    const run = last.then(() => asLeader(() => runSteps()));
    last = run.catch(() => {});
    return run;
  }

  async function asLeader(fn: () => Promise<SchedulerRun>): Promise<SchedulerRun | null> {
    if (database.kind === 'pglite') return fn();
    return database.withScriptRunner(async (run) => {
      const [row] = await run(`SELECT pg_try_advisory_lock(${LEADER_LOCK_ID}) AS locked`);
      if (row?.locked !== true) return null;
      try {
        return await fn();
      } finally {
        await run(`SELECT pg_advisory_unlock(${LEADER_LOCK_ID})`).catch(() => {});
      }
    });
  }

  // Each step on its own: one failing (a lock timeout on DDL, say) does not keep the others from running.
  async function runSteps(): Promise<SchedulerRun> {
    const result: SchedulerRun = { timedOut: 0, partitionsCreated: [], retention: null, idempotencyKeysForgotten: 0 };
    await step('time out stale messages', async () => {
      result.timedOut = await timeOutStaleMessages(db, config.scheduler.sendingTimeoutHours);
    });
    await step('create notification partitions', async () => {
      result.partitionsCreated = await ensurePartitions(db);
    });
    await step('apply retention', async () => {
      result.retention = await applyRetention(db, opts.retention);
    });
    await step('forget expired idempotency keys', async () => {
      result.idempotencyKeysForgotten = await deleteExpiredIdempotencyKeys(db);
    });
    const r = result.retention as RetentionReport | null;
    if (
      result.timedOut ||
      result.partitionsCreated.length ||
      (r && (r.droppedDays.length || r.rolledUp || deletedAny(r)))
    ) {
      logger?.info({ ...result }, 'scheduler run');
    }
    return result;
  }

  async function step(what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      logger?.error({ err }, `scheduler could not ${what}; it will try again on its next run`);
    }
  }

  return { runOnce, settled: () => last };
}

function deletedAny(r: RetentionReport): boolean {
  return r.notificationsDeleted + r.receivedTextsDeleted + r.outboxDeleted + r.callbacksDeleted > 0;
}

/**
 * Partitions for today and PARTITION_DAYS_AHEAD days ahead, and for any day whose rows wait in the default
 * partition (the scheduler was not running) as long as some service may still keep that day: creating the
 * partition moves them into it. Resolves to the days created.
 */
export async function ensurePartitions(db: Db): Promise<string[]> {
  const today = await databaseToday(db);
  const existing = new Set(await listDayPartitions(db));
  const longest = await longestRetentionDays(db);
  const wanted = new Set<string>();
  for (const day of await daysInDefaultPartition(db)) {
    if (day >= addDays(today, -longest)) wanted.add(day);
  }
  for (let ahead = 0; ahead <= PARTITION_DAYS_AHEAD; ahead++) wanted.add(addDays(today, ahead));
  const created: string[] = [];
  for (const day of [...wanted].sort()) {
    if (!existing.has(day) && (await createDayPartition(db, day))) created.push(day);
  }
  return created;
}
