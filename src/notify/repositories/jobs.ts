/**
 * Bulk jobs (jobs) and the notifications a job became. A job is a claim/lease queue row (platform/queue/
 * claim-queue.ts): every change to a claimed job is fenced by the attempt number it was claimed with.
 */
import { sql, type Insertable } from 'kysely';
import type { Db } from '../../platform/database/connection.ts';
import type { BulkColumn, BulkTransaction, BulkValue } from '../../platform/database/bulk-load.ts';
import type { JobStatus, KeyType, TemplateType } from '../vocabulary.ts';
import type { JobsTable } from '../schema.ts';
import { claim, release, type Fenced, type QueueTable } from '../../platform/queue/claim-queue.ts';
import type { SpreadsheetFormat } from '../jobs/spreadsheet.ts';

/** Statuses of a job that has not ended: it may still be claimed, run, or cancelled. */
const UNENDED: JobStatus[] = ['pending', 'scheduled', 'in progress'];

export const JOB_QUEUE: QueueTable = {
  table: 'jobs',
  idType: 'uuid',
  // Literals, not parameters, so that the planner matches the partial index jobs_due.
  due: sql`job_status IN (${sql.join(UNENDED.map((s) => sql.lit(s)))}) AND next_attempt_at <= now()`,
  orderBy: ['next_attempt_at'],
  returning: [
    'service_id',
    'template_id',
    'template_version',
    'template_type',
    'file_format',
    'notification_count',
    'api_key_id',
    'key_type',
    'created_by_id',
    'reply_to_text',
    'client_reference',
  ],
  touchColumn: 'updated_at',
};

/** A claimed job: its fence (id, attempts) and what JOB_QUEUE returns. */
export interface ClaimedJob {
  id: string;
  attempts: number;
  service_id: string;
  template_id: string;
  template_version: number;
  template_type: TemplateType;
  file_format: SpreadsheetFormat;
  notification_count: number;
  api_key_id: string | null;
  key_type: KeyType;
  created_by_id: string | null;
  reply_to_text: string | null;
  client_reference: string | null;
}

/** What a job took from the daily limits (`counted`, by channel) and on which day, for a refund. */
export interface CountedRow {
  counted: unknown;
  counted_on: string | null;
}

const countedColumns = ['counted', sql<string | null>`counted_on::text`.as('counted_on')] as const;

export async function insertJob(db: Db, job: Insertable<JobsTable>): Promise<void> {
  await db.insertInto('jobs').values(job).execute();
}

/** A job of the service, with the names of its service, API key and author. */
export async function findJob(db: Db, serviceId: string, jobId: string) {
  return db
    .selectFrom('jobs as j')
    .innerJoin('services as s', 's.id', 'j.service_id')
    .leftJoin('api_keys as k', 'k.id', 'j.api_key_id')
    .leftJoin('users as u', 'u.id', 'j.created_by_id')
    .selectAll('j')
    .select(['s.name as service_name', 'k.name as key_name', 'u.name as user_name'])
    .where('j.service_id', '=', serviceId)
    .where('j.id', '=', jobId)
    .executeTakeFirst();
}

export async function jobFileFormat(db: Db, jobId: string): Promise<SpreadsheetFormat> {
  return (await db.selectFrom('jobs').select('file_format').where('id', '=', jobId).executeTakeFirstOrThrow())
    .file_format as SpreadsheetFormat;
}

/** The job's notifications counted by status: one indexed count. */
export async function countJobNotifications(
  db: Db,
  serviceId: string,
  jobId: string,
): Promise<Array<{ status: string; n: number }>> {
  return db
    .selectFrom('notifications')
    .select(['status', sql<number>`count(*)::int`.as('n')])
    .where('job_id', '=', jobId)
    .where('service_id', '=', serviceId)
    .groupBy('status')
    .execute();
}

/** The next `limit` of the job's notifications after row `after`, in row order (the job's report). */
export async function jobNotificationsAfter(db: Db, serviceId: string, jobId: string, after: number, limit: number) {
  return db
    .selectFrom('notifications')
    .select(['job_row_number', 'to', 'status', 'created_at', 'updated_at'])
    .where('job_id', '=', jobId)
    .where('service_id', '=', serviceId)
    .where('job_row_number', '>', after)
    .orderBy('job_row_number')
    .limit(limit)
    .execute();
}

/** Cancels a job that has not started; undefined when there is none such. */
export async function cancelUnstartedJob(db: Db, serviceId: string, jobId: string): Promise<CountedRow | undefined> {
  return db
    .updateTable('jobs')
    .set({ job_status: 'cancelled', claimed_until: null, updated_at: new Date() })
    .where('id', '=', jobId)
    .where('service_id', '=', serviceId)
    .where('job_status', 'in', ['pending', 'scheduled'])
    .returning(countedColumns)
    .executeTakeFirst();
}

/** Claims the next due job (this one, if `jobId` is given) for `leaseSeconds`. */
export async function claimDueJob(db: Db, leaseSeconds: number, jobId?: string): Promise<ClaimedJob | undefined> {
  const queue = jobId ? { ...JOB_QUEUE, due: sql`(${JOB_QUEUE.due}) AND id = ${jobId}` } : JOB_QUEUE;
  const [job] = await claim<ClaimedJob>(db, queue, { limit: 1, leaseSeconds });
  return job;
}

/** Gives a claimed job back for another try in `delayMs`. */
export async function releaseJob(db: Db, job: Fenced, delayMs: number): Promise<void> {
  await release(db, JOB_QUEUE, [{ id: job.id, attempts: job.attempts, delayMs }]);
}

/** Moves a claimed job to `in progress`; its processing_started is kept from an earlier attempt. */
export async function startJob(db: Db, job: Fenced): Promise<{ processing_started: Date | null } | undefined> {
  return db
    .updateTable('jobs')
    .set({
      job_status: 'in progress',
      processing_started: sql`coalesce(processing_started, now())`,
      updated_at: new Date(),
    })
    .where('id', '=', job.id)
    .where('attempts', '=', job.attempts)
    .where('job_status', 'in', UNENDED)
    .returning('processing_started')
    .executeTakeFirst();
}

export async function renewJobLease(db: Db, job: Fenced, leaseSeconds: number): Promise<void> {
  await db
    .updateTable('jobs')
    .set({ claimed_until: sql`now() + ${leaseSeconds} * interval '1 second'` })
    .where('id', '=', job.id)
    .where('attempts', '=', job.attempts)
    .where('job_status', '=', 'in progress')
    .execute();
}

/** Ends a job as `error`; undefined when the fence no longer holds. */
export async function endJobInError(db: Db, job: Fenced): Promise<CountedRow | undefined> {
  return db
    .updateTable('jobs')
    .set({ job_status: 'error', claimed_until: null, processing_finished: sql`now()`, updated_at: sql`now()` })
    .where('id', '=', job.id)
    .where('attempts', '=', job.attempts)
    .where('job_status', 'in', UNENDED)
    .returning(countedColumns)
    .executeTakeFirst();
}

/** Loads the job's notifications (COPY on PostgreSQL) inside the job's bulk transaction; resolves to their number. */
export function insertJobNotifications(
  tx: BulkTransaction,
  columns: readonly BulkColumn[],
  batches: AsyncIterable<BulkValue[][]>,
): Promise<number> {
  return tx.insertRows('notifications', columns, batches);
}

/** Moves the job to `finished` in the same transaction, fenced by its attempt; false if the fence no longer holds. */
export async function finishJob(tx: BulkTransaction, job: Fenced): Promise<boolean> {
  const done = await tx.query(
    `UPDATE jobs SET job_status = 'finished', processing_finished = now(), claimed_until = NULL, updated_at = now()
           WHERE id = $1 AND attempts = $2 AND job_status = 'in progress' RETURNING id`,
    [job.id, job.attempts],
  );
  return done.length > 0;
}

/** Archives the ended jobs whose file is past its retention; resolves to their ids. */
export async function archiveExpiredJobs(db: Db): Promise<string[]> {
  const expired = await db
    .updateTable('jobs')
    .set({ archived: true, updated_at: new Date() })
    .where('file_expires_at', '<', new Date())
    .where('archived', '=', false)
    .where('job_status', 'not in', UNENDED)
    .returning('id')
    .execute();
  return expired.map((j) => j.id);
}
