/**
 * Bulk sending jobs: a recipient list becomes a job, and a job's rows become notifications. No HTTP here; the v2
 * API (api/v2/bulk.ts) and `envoi send-bulk` are both thin callers.
 *
 * Creating a job reads the upload once, as a stream: every row is checked (RecipientListChecker) while the bytes
 * are stored in `job_files` chunks, so memory stays flat whatever the file's size. A list with problems is
 * refused with the whole report and its chunks are deleted. A good one takes its rows from the daily limits and
 * becomes a `pending` job (or `scheduled`, up to 96 hours ahead).
 *
 * Processing a job: it is claimed with the claim/lease pattern (db/claim-queue.ts), its file read back from the
 * database as a stream, and every row inserted as a notification in ONE transaction (COPY on PostgreSQL), together
 * with the job's move to `finished`, fenced by the claim's attempt number. So a job's rows are all there or none
 * are: a process killed mid-job leaves nothing behind, and the job is claimed again when its lease runs out. The
 * unique index on (job_id, job_row_number, created_at), every row of a job carrying the same created_at, makes a
 * second copy impossible even if two processors overlap.
 */
import type { Logger } from '../../platform/queue/background.ts';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { sql } from 'kysely';
import { getCountryCallingCode } from 'libphonenumber-js/max';
import type { DbHandle } from '../../platform/database/connection.ts';
import type { BulkColumn, BulkValue } from '../../platform/database/bulk-load.ts';
import type { JobStatus, KeyType, TemplateCategory, TemplateType } from '../../platform/database/schema.ts';
import { claim, laneBackoffMs, release, type QueueTable } from '../../platform/queue/claim-queue.ts';
import type { ServiceDirectory, ServiceRecord } from '../sending/service-directory.ts';
import type { DailyLimits, Reservation } from '../sending/limits.ts';
import type { LimitChannel } from '../sending/refusals.ts';
import { MAX_SCHEDULE_HOURS, PRIORITY_OF_CATEGORY, resolveSender } from '../sending/send-rules.ts';
import { SendRefused } from '../sending/refusals.ts';
import { systemUserId } from '../../platform/repositories/users.ts';
import { csvLine } from '../../platform/csv-safety.ts';
import { timeOrderedUuid } from '../../platform/ids.ts';
import {
  InvalidRecipientError,
  isSimulatedRecipient,
  normaliseEmail,
  validatePhoneNumber,
  type CountryCode,
} from '../sending/recipients.ts';
import { renderEmailBody, renderEmailSubject, renderSms } from '../template-language/index.ts';
import { notificationsAccepted } from '../../platform/metrics.ts';
import { readRows, type SpreadsheetFormat } from './spreadsheet.ts';
import { cleanCell, RecipientListChecker, type ListReport, type RecipientListOptions } from './recipient-list.ts';

/** GC Notify's CSV_BULK_REDIRECT_THRESHOLD: jobs this big go to the bulk lane. */
export const BULK_LANE_THRESHOLD = 200;
/** Uploaded files are deleted this long after the job was created. */
export const FILE_RETENTION_DAYS = 7;

// Chunks of 64 KiB. Bigger ones cost memory out of proportion: each read back is a string and a buffer too big for
// V8's young generation, so they pile up as old garbage (with 1 MiB chunks a million-row job peaked 100 MB higher).
const CHUNK_BYTES = 64 * 1024;
// Rows per batch handed to the database: a COPY buffer or one INSERT's JSON parameter. Small enough that few
// rows outlive a young-generation collection (garbage promoted to the old one is what makes a heap grow).
const INSERT_BATCH = 500;
// A stream over a file's chunks reads one ahead, not Node's default sixteen (16 MB of a stored file).
const ONE_AHEAD = { highWaterMark: 1 };
// How often (rows) the checking pass reports progress.
const PROGRESS_EVERY = 5_000;

export interface JobsOptions {
  database: DbHandle;
  directory: ServiceDirectory;
  limits: DailyLimits;
  phoneRegion: string;
  /** For the system user that API and CLI jobs name as their author. */
  emailDomain: string;
  /** A processor's lease on a job; it is renewed while the job runs (PostgreSQL). Default 60 s. */
  leaseSeconds?: number;
  /** Tries of a job (JOB_MAX_ATTEMPTS) before one that keeps failing ends as `error`. Default 5. */
  maxAttempts?: number;
  logger?: Logger;
}

/** Who is sending: an API key, an operator at the command line (no key), or a person in the web UI. */
export interface JobCaller {
  service: ServiceRecord;
  keyId: string | null;
  keyType: KeyType;
  /** The person who sent it from the web UI; Envoi's system user otherwise. */
  createdById?: string | null;
}

export interface NewJob {
  templateId: string;
  /** Shown as the job's original_file_name. */
  name: string;
  /** The file's bytes (or text, e.g. the bulk API's `csv`). */
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;
  format: SpreadsheetFormat;
  scheduledFor: Date | null;
  /** A reply-to address (email) or text sender (sms) of the service, by id; null for the default. */
  replyToId: string | null;
  /** Client reference for rows without a `reference` column. */
  reference: string | null;
  onProgress?: (event: JobProgressEvent) => void | Promise<void>;
}

export interface JobProgressEvent {
  /** `checking`: rows read and checked so far; `queueing`: rows turned into notifications so far. */
  stage: 'checking' | 'queueing';
  rows: number;
  /** Bytes of the file read so far (checking). */
  bytes?: number;
  /** Rows in the job (queueing). */
  total?: number;
}

/** A job as the API presents it, with the names its keys refer to. */
export interface JobView {
  id: string;
  serviceId: string;
  serviceName: string;
  templateId: string;
  templateVersion: number;
  templateType: TemplateType;
  name: string;
  notificationCount: number;
  status: JobStatus;
  apiKey: { id: string; keyType: KeyType; name: string } | null;
  createdBy: { id: string; name: string } | null;
  senderId: string | null;
  scheduledFor: Date | null;
  processingStarted: Date | null;
  processingFinished: Date | null;
  archived: boolean;
  createdAt: Date;
  updatedAt: Date | null;
}

/** Where a job's rows are: not yet notifications, then by notification status. */
export interface JobCounts {
  rows: number;
  /** Rows not (yet) notifications: the job is scheduled, pending, running or was cancelled. */
  notQueued: number;
  /** Notifications waiting for the delivery worker (`created`). */
  queued: number;
  /** Handed to a provider, outcome not known yet. */
  sending: number;
  delivered: number;
  failed: number;
}

/** The list has problems; nothing was stored. `report.problems` in GC Notify's words, `report.summary` for people. */
export class JobRejected extends Error {
  constructor(readonly report: ListReport) {
    super(report.problems.map((p) => p.message).join('\n'));
    this.name = 'JobRejected';
  }
}

interface ClaimedJob {
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

/** The notification columns a job fills, in the order rowValues() gives them. */
const NOTIFICATION_COLUMNS: readonly BulkColumn[] = [
  { name: 'id', type: 'uuid' },
  { name: 'service_id', type: 'uuid' },
  { name: 'template_id', type: 'uuid' },
  { name: 'template_version', type: 'integer' },
  { name: 'api_key_id', type: 'uuid' },
  { name: 'key_type', type: 'text' },
  { name: 'notification_type', type: 'text' },
  { name: 'to', type: 'text' },
  { name: 'normalised_to', type: 'text' },
  { name: 'personalisation', type: 'jsonb' },
  { name: 'client_reference', type: 'text' },
  { name: 'subject', type: 'text' },
  { name: 'body', type: 'text' },
  { name: 'reply_to_text', type: 'text' },
  { name: 'billable_units', type: 'integer' },
  { name: 'status', type: 'text' },
  { name: 'priority', type: 'smallint' },
  { name: 'next_attempt_at', type: 'timestamptz' },
  { name: 'provider_response', type: 'text' },
  { name: 'created_by_id', type: 'uuid' },
  { name: 'job_id', type: 'uuid' },
  { name: 'job_row_number', type: 'integer' },
  { name: 'created_at', type: 'timestamptz' },
  { name: 'sent_at', type: 'timestamptz' },
  { name: 'updated_at', type: 'timestamptz' },
];

const FAILED_STATUSES = new Set([
  'technical-failure',
  'temporary-failure',
  'permanent-failure',
  'failed',
  'validation-failed',
  'virus-scan-failed',
  'cancelled',
]);

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

export class Jobs {
  private readonly db;
  private readonly leaseSeconds: number;
  private readonly maxAttempts: number;
  private readonly log: Logger | undefined;
  private readonly running = new Set<Promise<unknown>>();
  private systemUser: Promise<string> | null = null;

  constructor(private readonly opts: JobsOptions) {
    this.db = opts.database.db;
    this.leaseSeconds = opts.leaseSeconds ?? 60;
    this.maxAttempts = opts.maxAttempts ?? 5;
    this.log = opts.logger;
  }

  // ---- creating ------------------------------------------------------------------------------------------------

  /**
   * Checks the list and, if it can be sent, stores it as a job; `warnings` are the list's (duplicate recipients).
   * Throws JobRejected (the list's problems), SendRefused (template, permission, sender, schedule, daily limit) or
   * SpreadsheetReadError (unreadable file).
   */
  async create(caller: JobCaller, input: NewJob): Promise<{ job: JobView; warnings: string[] }> {
    const { service } = caller;
    const { directory, limits } = this.opts;
    const template = await directory.template(service.id, input.templateId);
    if (!template || template.hidden) throw new SendRefused({ code: 'template-not-found' });
    if (template.archived) throw new SendRefused({ code: 'job-template-deleted', templateId: template.id });
    const type = template.type;
    if (!service.permissions.has(type)) throw new SendRefused({ code: 'channel-not-allowed', channel: type });
    checkSchedule(input.scheduledFor);
    const replyToText = await resolveSender(directory, service, type, input.replyToId);

    const counted = caller.keyType !== 'test';
    const restricted = caller.keyType === 'team' || (caller.keyType === 'normal' && service.restricted);
    const checker = new RecipientListChecker({
      templateType: type,
      templateTexts: type === 'email' ? [template.subject ?? '', template.content] : [template.content],
      templateContent: template.content,
      maxRows: service.maxRows,
      remainingToday: counted ? await limits.remaining(service.id, type, service.messageLimits[type]) : null,
      allowedRecipients: restricted ? await directory.allowedRecipients(service.id) : null,
      restrictionReason: caller.keyType === 'team' ? 'team' : restricted ? 'trial' : null,
      phoneRegion: this.opts.phoneRegion,
      allowInternational: service.permissions.has('international_sms'),
      allowMixedSimulated: caller.keyType === 'test',
    });

    const jobId = randomUUID();
    const file = new ChunkWriter(this.db, jobId);
    const ownPrefix = `+${getCountryCallingCode(this.opts.phoneRegion as CountryCode)}`;
    let international = 0;
    let report: ListReport;
    try {
      let first = true;
      for await (const cells of readRows(Readable.from(file.tee(input.source), ONE_AHEAD), input.format)) {
        if (first) {
          checker.header(cells);
          first = false;
          continue;
        }
        const row = checker.row(cells);
        if (
          type === 'sms' &&
          !row.simulated &&
          row.normalisedRecipient &&
          !row.normalisedRecipient.startsWith(ownPrefix)
        ) {
          international += 1;
        }
        if (row.rowNumber % INSERT_BATCH === 0) {
          if (input.onProgress && row.rowNumber % PROGRESS_EVERY === 0) {
            await input.onProgress({ stage: 'checking', rows: row.rowNumber, bytes: file.bytes });
          }
          await yieldToEventLoop();
        }
      }
      await file.end();
      report = checker.finish();
      if (input.onProgress) await input.onProgress({ stage: 'checking', rows: report.rowCount, bytes: file.bytes });
      if (!report.ok) throw new JobRejected(report);
    } catch (err) {
      await file.discard();
      throw err;
    }

    // The rows are counted against today's limits now, as a single send is counted when it is accepted.
    const reservations: Reservation[] = [];
    const countedChannels: Partial<Record<LimitChannel, number>> = {};
    try {
      if (counted && report.messageCount > 0) {
        reservations.push(
          await limits.reserve(service.id, { [type]: service.messageLimits[type] }, report.messageCount),
        );
        countedChannels[type] = report.messageCount;
        if (international > 0) {
          reservations.push(
            await limits.reserve(
              service.id,
              { international_sms: service.messageLimits.international_sms },
              international,
            ),
          );
          countedChannels.international_sms = international;
        }
      }
      const createdBy = caller.createdById ?? (await this.systemUserId());
      const now = new Date();
      const applyCounts = await this.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('jobs')
          .values({
            id: jobId,
            service_id: service.id,
            template_id: template.id,
            template_version: template.version,
            template_type: type,
            original_file_name: input.name,
            file_format: input.format,
            notification_count: report.rowCount,
            job_status: input.scheduledFor ? 'scheduled' : 'pending',
            api_key_id: caller.keyId,
            key_type: caller.keyType,
            created_by_id: createdBy,
            sender_id: input.replyToId,
            reply_to_text: replyToText,
            client_reference: input.reference,
            scheduled_for: input.scheduledFor,
            counted: reservations.length ? JSON.stringify(countedChannels) : null,
            // The day the counter rows were taken on (reserved just before midnight, committed just after: the former).
            counted_on: reservations[0]?.day ?? null,
            next_attempt_at: input.scheduledFor ?? now,
            file_expires_at: new Date(now.getTime() + FILE_RETENTION_DAYS * 86_400_000),
            created_at: now,
          })
          .execute();
        return limits.commit(trx, reservations);
      });
      applyCounts();
    } catch (err) {
      for (const r of reservations) limits.release(r);
      await file.discard();
      throw err;
    }
    return { job: (await this.get(service.id, jobId))!, warnings: report.warnings };
  }

  private systemUserId(): Promise<string> {
    this.systemUser ??= systemUserId(this.db, this.opts.emailDomain);
    this.systemUser.catch(() => (this.systemUser = null));
    return this.systemUser;
  }

  // ---- reading -------------------------------------------------------------------------------------------------

  async get(serviceId: string, jobId: string): Promise<JobView | null> {
    const row = await this.db
      .selectFrom('jobs as j')
      .innerJoin('services as s', 's.id', 'j.service_id')
      .leftJoin('api_keys as k', 'k.id', 'j.api_key_id')
      .leftJoin('users as u', 'u.id', 'j.created_by_id')
      .selectAll('j')
      .select(['s.name as service_name', 'k.name as key_name', 'u.name as user_name'])
      .where('j.service_id', '=', serviceId)
      .where('j.id', '=', jobId)
      .executeTakeFirst();
    if (!row) return null;
    return {
      id: row.id,
      serviceId: row.service_id,
      serviceName: row.service_name,
      templateId: row.template_id,
      templateVersion: row.template_version,
      templateType: row.template_type,
      name: row.original_file_name,
      notificationCount: row.notification_count,
      status: row.job_status,
      apiKey: row.api_key_id ? { id: row.api_key_id, keyType: row.key_type, name: row.key_name ?? '' } : null,
      createdBy: row.created_by_id ? { id: row.created_by_id, name: row.user_name ?? '' } : null,
      senderId: row.sender_id,
      scheduledFor: row.scheduled_for,
      processingStarted: row.processing_started,
      processingFinished: row.processing_finished,
      archived: row.archived,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }

  /** Where the job's rows are. One indexed count of its notifications by status. */
  async counts(job: Pick<JobView, 'id' | 'serviceId' | 'notificationCount'>): Promise<JobCounts> {
    const rows = await this.db
      .selectFrom('notifications')
      .select(['status', sql<number>`count(*)::int`.as('n')])
      .where('job_id', '=', job.id)
      .where('service_id', '=', job.serviceId)
      .groupBy('status')
      .execute();
    const counts: JobCounts = {
      rows: job.notificationCount,
      notQueued: 0,
      queued: 0,
      sending: 0,
      delivered: 0,
      failed: 0,
    };
    let seen = 0;
    for (const { status, n } of rows) {
      seen += n;
      if (status === 'created') counts.queued += n;
      else if (status === 'sending' || status === 'pending') counts.sending += n;
      else if (status === 'delivered' || status === 'sent') counts.delivered += n;
      else if (FAILED_STATUSES.has(status)) counts.failed += n;
    }
    counts.notQueued = Math.max(0, job.notificationCount - seen);
    return counts;
  }

  /**
   * The job's report, one CSV line at a time (header first): every row with its recipient and status, cells
   * escaped against formula injection. Before the rows are notifications, they come from the stored file with
   * the job's own status.
   */
  async *report(serviceId: string, jobId: string): AsyncGenerator<string> {
    const job = await this.get(serviceId, jobId);
    if (!job) throw new SendRefused({ code: 'job-not-found' });
    const template = await this.db
      .selectFrom('template_history')
      .select(['name', 'subject', 'content'])
      .where('id', '=', job.templateId)
      .where('version', '=', job.templateVersion)
      .executeTakeFirstOrThrow();
    yield csvLine(['Row number', 'Recipient', 'Template', 'Type', 'Job', 'Status', 'Time']);
    const line = (row: number, recipient: string, status: string, time: Date | null) =>
      csvLine([
        row,
        recipient,
        template.name,
        job.templateType === 'email' ? 'Email' : 'Text message',
        job.name,
        status,
        time ? time.toISOString() : '',
      ]);

    if (job.status === 'finished') {
      let after = 0;
      for (;;) {
        const rows = await this.db
          .selectFrom('notifications')
          .select(['job_row_number', 'to', 'status', 'created_at', 'updated_at'])
          .where('job_id', '=', job.id)
          .where('service_id', '=', serviceId)
          .where('job_row_number', '>', after)
          .orderBy('job_row_number')
          .limit(5_000)
          .execute();
        if (rows.length === 0) return;
        let text = '';
        for (const r of rows) text += line(r.job_row_number!, r.to, r.status, r.updated_at ?? r.created_at);
        yield text;
        after = rows.at(-1)!.job_row_number!;
      }
    }
    const format = (
      await this.db.selectFrom('jobs').select('file_format').where('id', '=', job.id).executeTakeFirstOrThrow()
    ).file_format as SpreadsheetFormat;
    if (!(await this.hasFile(job.id))) return;
    const chunk = async (seq: number) =>
      (
        await this.db
          .selectFrom('job_files')
          .select('bytes')
          .where('job_id', '=', job.id)
          .where('seq', '=', seq)
          .executeTakeFirst()
      )?.bytes ?? null;
    let text = '';
    for await (const row of this.storedRows(job.id, format, job.templateType, template, chunk)) {
      text += line(row.rowNumber, row.recipient, job.status, job.updatedAt ?? job.createdAt);
      if (text.length > 256 * 1024) {
        yield text;
        text = '';
      }
    }
    if (text) yield text;
  }

  private async hasFile(jobId: string): Promise<boolean> {
    const chunk = await this.db
      .selectFrom('job_files')
      .select('seq')
      .where('job_id', '=', jobId)
      .limit(1)
      .executeTakeFirst();
    return chunk !== undefined;
  }

  // ---- cancelling ----------------------------------------------------------------------------------------------

  /** Cancels a job that has not started; gives back what it took from today's limits. */
  async cancel(serviceId: string, jobId: string): Promise<JobView> {
    const row = await this.db
      .updateTable('jobs')
      .set({ job_status: 'cancelled', claimed_until: null, updated_at: new Date() })
      .where('id', '=', jobId)
      .where('service_id', '=', serviceId)
      .where('job_status', 'in', ['pending', 'scheduled'])
      .returning(['counted', sql<string | null>`counted_on::text`.as('counted_on')])
      .executeTakeFirst();
    if (!row) {
      const job = await this.get(serviceId, jobId);
      if (!job) throw new SendRefused({ code: 'job-not-found' });
      throw new SendRefused({ code: 'job-not-cancellable', status: job.status });
    }
    await this.refundCounted(serviceId, row);
    return (await this.get(serviceId, jobId))!;
  }

  /** Gives back what a job that will send none of its rows took from the daily limits, on the day it was taken. */
  private async refundCounted(serviceId: string, row: { counted: unknown; counted_on: string | null }): Promise<void> {
    if (!row.counted || !row.counted_on) return;
    const counts = (typeof row.counted === 'string' ? JSON.parse(row.counted) : row.counted) as Partial<
      Record<LimitChannel, number>
    >;
    await this.opts.limits.refund(serviceId, row.counted_on, counts);
  }

  // ---- processing ----------------------------------------------------------------------------------------------

  /**
   * Claims and runs one due job (this one if `jobId` is given). Resolves true when a job was run to the end, or
   * failed on its last attempt and ended as `error`; false when there was none to claim (not due, finished,
   * cancelled, or another processor holds it). Throws JobAttemptFailed when the job failed and will be tried again.
   */
  async processNext(opts: { jobId?: string; onProgress?: NewJob['onProgress'] } = {}): Promise<boolean> {
    const queue = opts.jobId ? { ...JOB_QUEUE, due: sql`(${JOB_QUEUE.due}) AND id = ${opts.jobId}` } : JOB_QUEUE;
    const [job] = await claim<ClaimedJob>(this.db, queue, { limit: 1, leaseSeconds: this.leaseSeconds });
    if (!job) return false;
    // Claimed more times than it may be tried: its earlier processors died without an outcome (a job that kills
    // its process each time never reaches the catch below).
    if (
      job.attempts > this.maxAttempts &&
      (await this.endInError(job, new Error(`no outcome after ${this.maxAttempts} attempts`)))
    )
      return true;
    try {
      return await this.run(job, opts.onProgress);
    } catch (err) {
      // Another processor took the job over: its attempt, not this one, decides the outcome.
      if (err instanceof LostClaim) return false;
      if (job.attempts >= this.maxAttempts && (await this.endInError(job, err))) return true;
      this.log?.warn(
        { err, jobId: job.id, attempts: job.attempts, maxAttempts: this.maxAttempts },
        'job failed; it will be tried again',
      );
      await release(this.db, JOB_QUEUE, [
        { id: job.id, attempts: job.attempts, delayMs: laneBackoffMs(job.attempts, 1) },
      ]).catch(() => {});
      throw new JobAttemptFailed(job.id, err);
    }
  }

  /**
   * Ends a job whose last attempt failed as `error` (GC Notify's JOB_STATUS_ERROR), fenced by the attempt, and
   * gives back the daily-limit counts of all its rows: its transaction rolled back, so none became a notification.
   * False if the fence no longer holds (another processor took the job over) or the job could not be updated.
   */
  private async endInError(job: ClaimedJob, err: unknown): Promise<boolean> {
    let ended;
    try {
      ended = await this.db
        .updateTable('jobs')
        .set({ job_status: 'error', claimed_until: null, processing_finished: sql`now()`, updated_at: sql`now()` })
        .where('id', '=', job.id)
        .where('attempts', '=', job.attempts)
        .where('job_status', 'in', UNENDED)
        .returning(['counted', sql<string | null>`counted_on::text`.as('counted_on')])
        .executeTakeFirst();
    } catch (updateErr) {
      this.log?.warn({ err: updateErr, jobId: job.id }, 'could not end a failed job as error');
      return false;
    }
    if (!ended) return false;
    this.log?.error(
      { err, jobId: job.id, attempts: job.attempts },
      'job failed on its last attempt: it ends as error, and none of its messages were sent',
    );
    try {
      await this.refundCounted(job.service_id, ended);
    } catch (refundErr) {
      // The job has ended all the same; the operator can correct daily_send_counts by hand.
      this.log?.error(
        { err: refundErr, jobId: job.id, counted: ended.counted },
        'could not give back the daily limit counts of a job that ended as error',
      );
    }
    return true;
  }

  /** Starts processing a job now, in the background (right after the API created it). */
  kick(jobId: string): void {
    const p = this.processNext({ jobId })
      .catch((err) => {
        if (!(err instanceof JobAttemptFailed)) this.log?.error({ err, jobId }, 'job processing failed');
      })
      .finally(() => this.running.delete(p));
    this.running.add(p);
  }

  /** Resolves when every kicked job has finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
  }

  private async run(job: ClaimedJob, onProgress: NewJob['onProgress']): Promise<boolean> {
    const started = await this.db
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
    if (!started) return false; // cancelled between the claim and now

    const template = await this.db
      .selectFrom('template_history')
      .select(['name', 'subject', 'content', 'category'])
      .where('id', '=', job.template_id)
      .where('version', '=', job.template_version)
      .executeTakeFirstOrThrow();

    // PGlite is one connection, held by the transaction: nothing else could claim the job meanwhile anyway.
    const heartbeat = this.opts.database.kind === 'postgres' ? this.keepLease(job) : null;
    const tally = { queued: 0 };
    try {
      await this.opts.database.withBulkTransaction(async (tx) => {
        const rows = this.notificationRows(job, started.processing_started!, template, tx.read, onProgress, tally);
        const inserted = await tx.insertRows('notifications', NOTIFICATION_COLUMNS, rows);
        if (inserted !== job.notification_count) {
          throw new Error(`job ${job.id}: the file gave ${inserted} rows, ${job.notification_count} were checked`);
        }
        const done = await tx.query(
          `UPDATE jobs SET job_status = 'finished', processing_finished = now(), claimed_until = NULL, updated_at = now()
           WHERE id = $1 AND attempts = $2 AND job_status = 'in progress' RETURNING id`,
          [job.id, job.attempts],
        );
        if (done.length === 0) throw new LostClaim();
      });
    } finally {
      heartbeat?.stop();
    }
    notificationsAccepted[job.template_type][job.key_type].inc(tally.queued);
    this.log?.info({ jobId: job.id, rows: job.notification_count }, 'job queued');
    return true;
  }

  /** Renews the lease while a long job runs, so that no other processor takes it over. */
  private keepLease(job: ClaimedJob): { stop(): void } {
    const timer = setInterval(
      () => {
        this.db
          .updateTable('jobs')
          .set({ claimed_until: sql`now() + ${this.leaseSeconds} * interval '1 second'` })
          .where('id', '=', job.id)
          .where('attempts', '=', job.attempts)
          .where('job_status', '=', 'in progress')
          .execute()
          .catch((err) => this.log?.warn({ err, jobId: job.id }, 'could not renew the lease of a job'));
      },
      (this.leaseSeconds * 1000) / 3,
    );
    timer.unref();
    return { stop: () => clearInterval(timer) };
  }

  /** The rows of a job's stored file, read as they were when the job was created. */
  private storedRows(
    jobId: string,
    format: SpreadsheetFormat,
    type: TemplateType,
    template: { subject: string | null; content: string },
    chunk: (seq: number) => Promise<Uint8Array | null>,
  ): AsyncGenerator<StoredRow> {
    return readStoredRows(readRows(Readable.from(storedFile(chunk, jobId), ONE_AHEAD), format), {
      templateType: type,
      templateTexts: type === 'email' ? [template.subject ?? '', template.content] : [template.content],
      templateContent: template.content,
      maxRows: Number.MAX_SAFE_INTEGER,
      remainingToday: null,
      allowedRecipients: null,
      restrictionReason: null,
      phoneRegion: this.opts.phoneRegion,
      allowInternational: true,
      allowMixedSimulated: true,
    });
  }

  /** The job's notifications, rendered as a single send renders them, in batches for insertRows. */
  private async *notificationRows(
    job: ClaimedJob,
    // Every row's created_at: the job's first processing start, the same for any processor that runs it, so the
    // unique index (job_id, job_row_number, created_at) on the day-partitioned table still refuses a second copy.
    processingStarted: Date,
    template: { subject: string | null; content: string; category: TemplateCategory },
    read: (text: string, params?: unknown[]) => Promise<Record<string, unknown>[]>,
    onProgress: NewJob['onProgress'],
    /** Counts the rows queued for delivery (not simulated or failed ones), for the accepted metric. */
    tally: { queued: number },
  ): AsyncGenerator<BulkValue[][]> {
    // Big jobs wait behind single sends; a small one keeps its template's lane, but never the bulk one.
    const priority =
      job.notification_count >= BULK_LANE_THRESHOLD
        ? PRIORITY_OF_CATEGORY.bulk
        : Math.min(PRIORITY_OF_CATEGORY[template.category], 1);
    const email = job.template_type === 'email';
    const subject = template.subject ?? '';
    let batch: BulkValue[][] = [];
    // One timestamp per batch, formatted once rather than once a row and column.
    let now = new Date().toISOString();
    const createdAt = processingStarted.toISOString();
    let done = 0;
    const chunk = async (seq: number) =>
      ((await read('SELECT bytes FROM job_files WHERE job_id = $1 AND seq = $2', [job.id, seq]))[0]?.bytes as
        | Uint8Array
        | undefined) ?? null;
    for await (const row of this.storedRows(job.id, job.file_format, job.template_type, template, chunk)) {
      const personalisation = row.personalisation;
      let body: string;
      let rowSubject: string | null = null;
      let units = 0;
      if (email) {
        body = renderEmailBody(template.content, personalisation);
        rowSubject = renderEmailSubject(subject, personalisation);
      } else {
        const sms = renderSms(template.content, personalisation);
        body = sms.body;
        units = sms.fragmentCount;
      }
      // Rows were checked when the job was created; one that fails now (it should not) is kept as a failure.
      const failed = row.errors.length > 0;
      const status = failed ? 'technical-failure' : row.simulated ? 'delivered' : 'created';
      if (status === 'created') tally.queued++;
      batch.push([
        timeOrderedUuid(),
        job.service_id,
        job.template_id,
        job.template_version,
        job.api_key_id,
        job.key_type,
        job.template_type,
        row.recipient,
        row.normalisedRecipient ?? row.recipient,
        JSON.stringify(personalisation),
        row.reference ?? job.client_reference,
        rowSubject,
        body,
        job.reply_to_text,
        units,
        status,
        priority,
        now,
        failed ? row.errors.join('; ') : null,
        job.created_by_id,
        job.id,
        row.rowNumber,
        createdAt,
        status === 'created' ? null : now,
        status === 'created' ? null : now,
      ]);
      if (batch.length >= INSERT_BATCH) {
        done += batch.length;
        yield batch;
        batch = [];
        now = new Date().toISOString();
        if (onProgress && done % PROGRESS_EVERY === 0)
          await onProgress({ stage: 'queueing', rows: done, total: job.notification_count });
        // Rows already in memory come through promises alone, which would keep timers and requests waiting.
        await yieldToEventLoop();
      }
    }
    if (batch.length > 0) {
      done += batch.length;
      yield batch;
    }
    if (onProgress) await onProgress({ stage: 'queueing', rows: done, total: job.notification_count });
  }

  // ---- housekeeping --------------------------------------------------------------------------------------------

  /**
   * Deletes files kept past their 7 days (the job is archived) and chunks of uploads that never became a job
   * (refused lists whose process died before cleaning up). Returns the number of files removed.
   */
  async deleteExpiredFiles(): Promise<number> {
    const expired = await this.db
      .updateTable('jobs')
      .set({ archived: true, updated_at: new Date() })
      .where('file_expires_at', '<', new Date())
      .where('archived', '=', false)
      .where('job_status', 'not in', UNENDED)
      .returning('id')
      .execute();
    if (expired.length > 0) {
      await this.db
        .deleteFrom('job_files')
        .where(
          'job_id',
          'in',
          expired.map((j) => j.id),
        )
        .execute();
    }
    await sql`
      DELETE FROM job_files f
      WHERE f.created_at < now() - interval '1 day'
        AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = f.job_id)`.execute(this.db);
    return expired.length;
  }
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A scheduled time must be in the future and at most 96 hours away (the API checks it too, in its own words). */
function checkSchedule(at: Date | null): void {
  if (!at) return;
  if (at.getTime() < Date.now()) throw new SendRefused({ code: 'scheduled-in-past' });
  if (at.getTime() > Date.now() + MAX_SCHEDULE_HOURS * 3_600_000) {
    throw new SendRefused({ code: 'scheduled-too-far', maxHours: MAX_SCHEDULE_HOURS });
  }
}

/** A row of a stored file, with what sending it needs. */
interface StoredRow {
  rowNumber: number;
  recipient: string;
  normalisedRecipient: string | null;
  simulated: boolean;
  personalisation: Record<string, string>;
  reference: string | null;
  /** Set only if a row that passed the checks when the job was created fails them now. */
  errors: string[];
}

/**
 * Reads rows that the checker accepted when the job was created. The checker maps the header (which column
 * fills which placeholder); each row then costs only its recipient's normal form, not the whole check again
 * (messages were rendered and measured then, and will be rendered for real by the caller).
 */
async function* readStoredRows(
  rows: AsyncIterable<string[]>,
  options: RecipientListOptions,
): AsyncGenerator<StoredRow> {
  let columns: {
    recipientHeader: string;
    recipient: number;
    reference: number;
    placeholders: Array<[string, number]>;
  } | null = null;
  const region = { defaultRegion: options.phoneRegion as CountryCode };
  let rowNumber = 0;
  for await (const cells of rows) {
    if (!columns) {
      const header = new RecipientListChecker(options).header(cells);
      if (!header.recipientColumn || header.missing.length > 0 || header.duplicates.length > 0) {
        throw new Error('the stored file no longer has the headers it was checked with');
      }
      // The checker names columns by their header as written (trimmed, NFC); the first such column is the one used.
      const headers = cells.map((cell) => cleanCell(cell).normalize('NFC'));
      columns = {
        recipientHeader: header.recipientColumn,
        recipient: headers.indexOf(header.recipientColumn),
        reference: header.referenceColumn === null ? -1 : headers.indexOf(header.referenceColumn),
        placeholders: Object.entries(header.placeholderColumns).map(([name, column]) => [
          name,
          headers.indexOf(column),
        ]),
      };
      continue;
    }
    rowNumber += 1;
    const recipient = cleanCell(cells[columns.recipient]);
    let normalised: string | null = null;
    const errors: string[] = [];
    try {
      // The addresses were validated when the job was created, and normaliseEmail gives the same form the checker
      // did; a phone number must be parsed again for its E.164 form.
      normalised =
        options.templateType === 'email' ? normaliseEmail(recipient) : validatePhoneNumber(recipient, region).e164;
    } catch (err) {
      if (!(err instanceof InvalidRecipientError)) throw err;
      errors.push(`column "${columns.recipientHeader}": ${err.message}`);
    }
    const personalisation: Record<string, string> = {};
    for (const [name, index] of columns.placeholders) personalisation[name] = cleanCell(cells[index]);
    const reference = columns.reference === -1 ? '' : cleanCell(cells[columns.reference]);
    yield {
      rowNumber,
      recipient,
      normalisedRecipient: normalised,
      simulated: normalised !== null && isSimulatedRecipient(options.templateType, normalised),
      personalisation,
      reference: reference === '' ? null : reference,
      errors,
    };
  }
}

/** The stored file, chunk after chunk; the next chunk is fetched while the current one is parsed. */
async function* storedFile(chunk: (seq: number) => Promise<Uint8Array | null>, jobId: string): AsyncGenerator<Buffer> {
  let next = chunk(0);
  for (let seq = 0; ; seq++) {
    const bytes = await next;
    if (bytes === null) {
      if (seq === 0) throw new Error(`the file of job ${jobId} has been deleted`);
      return;
    }
    next = chunk(seq + 1);
    next.catch(() => {}); // surfaced when awaited
    yield Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
}

/**
 * Stores an upload in chunks while it is being read. One chunk write is in flight at a time, so reading
 * goes on while the database writes, and memory holds at most two chunks.
 */
class ChunkWriter {
  bytes = 0;
  private parts: Buffer[] = [];
  private size = 0;
  private seq = 0;
  private writing: Promise<void> = Promise.resolve();
  private failure: unknown = null;

  constructor(
    private readonly db: JobsOptions['database']['db'],
    private readonly jobId: string,
  ) {}

  /** Passes the source through, keeping a copy of every byte. */
  async *tee(source: NewJob['source']): AsyncGenerator<Buffer> {
    for await (const piece of source) {
      const chunk =
        typeof piece === 'string' ? Buffer.from(piece, 'utf8') : Buffer.isBuffer(piece) ? piece : Buffer.from(piece);
      this.bytes += chunk.length;
      for (let at = 0; at < chunk.length; at += CHUNK_BYTES) {
        const part = at === 0 && chunk.length <= CHUNK_BYTES ? chunk : chunk.subarray(at, at + CHUNK_BYTES);
        this.parts.push(part);
        this.size += part.length;
        if (this.size >= CHUNK_BYTES) await this.flush();
      }
      yield chunk;
    }
  }

  private async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.size === 0) return;
    const bytes = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    const seq = this.seq++;
    await this.writing;
    if (this.failure) throw this.failure;
    this.writing = this.db
      .insertInto('job_files')
      .values({ job_id: this.jobId, seq, bytes })
      .execute()
      .then(
        () => undefined,
        (err) => {
          this.failure = err;
        },
      );
  }

  async end(): Promise<void> {
    await this.flush();
    await this.writing;
    if (this.failure) throw this.failure;
  }

  async discard(): Promise<void> {
    await this.writing;
    await this.db.deleteFrom('job_files').where('job_id', '=', this.jobId).execute();
  }
}
