/**
 * Processing a job: it is claimed with the claim/lease pattern (platform/queue/claim-queue.ts), its file read back
 * from the database as a stream, and every row inserted as a notification in ONE transaction (COPY on PostgreSQL),
 * together with the job's move to `finished`, fenced by the claim's attempt number. So a job's rows are all there or
 * none are: a process killed mid-job leaves nothing behind, and the job is claimed again when its lease runs out.
 * The unique index on (job_id, job_row_number, created_at), every row of a job carrying the same created_at, makes
 * a second copy impossible even if two processors overlap.
 */
import type { DbHandle } from '../../platform/database/connection.ts';
import { jobsEnded, notificationsAccepted } from '../../platform/metrics.ts';
import { laneBackoffMs } from '../../platform/queue/claim-queue.ts';
import type { Logger } from '../../platform/queue/background.ts';
import { readJobFileChunkDuringLoad } from '../repositories/job-files.ts';
import {
  type ClaimedJob,
  type CountedRow,
  claimDueJob,
  endJobInError,
  finishJob,
  insertJobNotifications,
  releaseJob,
  renewJobLease,
  startJob,
} from '../repositories/jobs.ts';
import { findTemplateVersion } from '../repositories/templates.ts';
import type { DailyLimits } from '../sending/limits.ts';
import type { LimitChannel } from '../sending/refusals.ts';
import { NOTIFICATION_COLUMNS, notificationRows, type ProgressListener, storedRows } from './job-rows.ts';

export interface ProcessingContext {
  database: DbHandle;
  limits: DailyLimits;
  phoneRegion: string;
  leaseSeconds: number;
  maxAttempts: number;
  log: Logger | undefined;
}

/** A job processor lost its claim (lease ran out, or the job was cancelled) before committing: roll back. */
class LostClaim extends Error {}

/** A job's attempt failed, was logged, and the job was released for a later try: callers need not log it again. */
export class JobAttemptFailed extends Error {
  constructor(
    readonly jobId: string,
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/**
 * Claims and runs one due job (this one if `jobId` is given). Resolves true when a job was run to the end, or
 * failed on its last attempt and ended as `error`; false when there was none to claim (not due, finished,
 * cancelled, or another processor holds it). Throws JobAttemptFailed when the job failed and will be tried again.
 */
export async function processNextJob(
  ctx: ProcessingContext,
  opts: { jobId?: string; onProgress?: ProgressListener },
): Promise<boolean> {
  const job = await claimDueJob(ctx.database.db, ctx.leaseSeconds, opts.jobId);
  if (!job) return false;
  // Claimed more times than it may be tried: its earlier processors died without an outcome (a job that kills
  // its process each time never reaches the catch below).
  if (
    job.attempts > ctx.maxAttempts &&
    (await endInError(ctx, job, new Error(`no outcome after ${ctx.maxAttempts} attempts`)))
  )
    return true;
  try {
    return await run(ctx, job, opts.onProgress);
  } catch (err) {
    // Another processor took the job over: its attempt, not this one, decides the outcome.
    if (err instanceof LostClaim) return false;
    if (job.attempts >= ctx.maxAttempts && (await endInError(ctx, job, err))) return true;
    ctx.log?.warn(
      { err, jobId: job.id, attempts: job.attempts, maxAttempts: ctx.maxAttempts },
      'job failed; it will be tried again',
    );
    await releaseJob(ctx.database.db, job, laneBackoffMs(job.attempts, 1)).catch(() => {});
    throw new JobAttemptFailed(job.id, err);
  }
}

/** Gives back what a job that will send none of its rows took from the daily limits, on the day it was taken. */
export async function refundCounted(limits: DailyLimits, serviceId: string, row: CountedRow): Promise<void> {
  if (!row.counted || !row.counted_on) return;
  const counts = (typeof row.counted === 'string' ? JSON.parse(row.counted) : row.counted) as Partial<
    Record<LimitChannel, number>
  >;
  await limits.refund(serviceId, row.counted_on, counts);
}

/**
 * Ends a job whose last attempt failed as `error` (GC Notify's JOB_STATUS_ERROR), fenced by the attempt, and
 * gives back the daily-limit counts of all its rows: its transaction rolled back, so none became a notification.
 * False if the fence no longer holds (another processor took the job over) or the job could not be updated.
 */
async function endInError(ctx: ProcessingContext, job: ClaimedJob, err: unknown): Promise<boolean> {
  let ended;
  try {
    ended = await endJobInError(ctx.database.db, job);
  } catch (updateErr) {
    ctx.log?.warn({ err: updateErr, jobId: job.id }, 'could not end a failed job as error');
    return false;
  }
  if (!ended) return false;
  jobsEnded.error.inc();
  ctx.log?.error(
    { err, jobId: job.id, attempts: job.attempts },
    'job failed on its last attempt: it ends as error, and none of its messages were sent',
  );
  try {
    await refundCounted(ctx.limits, job.service_id, ended);
  } catch (refundErr) {
    // The job has ended all the same; the operator can correct daily_send_counts by hand.
    ctx.log?.error(
      { err: refundErr, jobId: job.id, counted: ended.counted },
      'could not give back the daily limit counts of a job that ended as error',
    );
  }
  return true;
}

async function run(ctx: ProcessingContext, job: ClaimedJob, onProgress: ProgressListener | undefined) {
  const { database } = ctx;
  const started = await startJob(database.db, job);
  if (!started) return false; // cancelled between the claim and now

  const template = await findTemplateVersion(database.db, job.template_id, job.template_version);

  // PGlite is one connection, held by the transaction: nothing else could claim the job meanwhile anyway.
  const heartbeat = database.kind === 'postgres' ? keepLease(ctx, job) : null;
  const tally = { queued: 0 };
  try {
    await database.withBulkTransaction(async (tx) => {
      const file = { id: job.id, format: job.file_format, type: job.template_type };
      const chunk = (seq: number) => readJobFileChunkDuringLoad(tx, job.id, seq);
      const rows = storedRows(file, template, ctx.phoneRegion, chunk);
      const batches = notificationRows(job, started.processing_started!, template, rows, onProgress, tally);
      const inserted = await insertJobNotifications(tx, NOTIFICATION_COLUMNS, batches);
      if (inserted !== job.notification_count) {
        throw new Error(`job ${job.id}: the file gave ${inserted} rows, ${job.notification_count} were checked`);
      }
      if (!(await finishJob(tx, job))) throw new LostClaim();
    });
  } finally {
    heartbeat?.stop();
  }
  notificationsAccepted[job.template_type][job.key_type].inc(tally.queued);
  jobsEnded.finished.inc();
  ctx.log?.info({ jobId: job.id, rows: job.notification_count }, 'job queued');
  return true;
}

/** Renews the lease while a long job runs, so that no other processor takes it over. */
function keepLease(ctx: ProcessingContext, job: ClaimedJob): { stop(): void } {
  const timer = setInterval(
    () => {
      renewJobLease(ctx.database.db, job, ctx.leaseSeconds).catch((err) =>
        ctx.log?.warn({ err, jobId: job.id }, 'could not renew the lease of a job'),
      );
    },
    (ctx.leaseSeconds * 1000) / 3,
  );
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
