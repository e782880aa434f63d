/**
 * Bulk sending jobs: a recipient list becomes a job, and a job's rows become notifications. No HTTP here; the v2
 * API (api/v2/bulk.ts), the admin's send pages and `envoi send-bulk` are thin callers of the Jobs class below.
 *
 * The parts: job-creation.ts (checking and storing a list), job-files.ts (the upload kept in chunks),
 * job-processing.ts (claiming and running a job), job-rows.ts (stored rows as notification rows); their SQL is in
 * repositories/jobs.ts and repositories/job-files.ts.
 */
import type { Logger } from '../../platform/queue/background.ts';
import type { DbHandle } from '../../platform/database/connection.ts';
import type { JobStatus, KeyType, TemplateType } from '../vocabulary.ts';
import { csvLine } from '../../platform/csv-safety.ts';
import { systemUserId } from '../../platform/repositories/users.ts';
import { deleteJobFiles, deleteOrphanJobFiles, hasJobFile, readJobFileChunk } from '../repositories/job-files.ts';
import {
  archiveExpiredJobs,
  cancelUnstartedJob,
  countJobNotifications,
  findJob,
  jobFileFormat,
  jobNotificationsAfter,
} from '../repositories/jobs.ts';
import { findTemplateVersion } from '../repositories/templates.ts';
import type { DailyLimits } from '../sending/limits.ts';
import { SendRefused } from '../sending/refusals.ts';
import type { ServiceDirectory } from '../sending/service-directory.ts';
import { createJob, type CreationContext, type JobCaller, type NewJob } from './job-creation.ts';
import { JobAttemptFailed, type ProcessingContext, processNextJob, refundCounted } from './job-processing.ts';
import { storedRows } from './job-rows.ts';

export { JobRejected, type JobCaller, type NewJob } from './job-creation.ts';
export { JobAttemptFailed } from './job-processing.ts';
export type { JobProgressEvent } from './job-rows.ts';

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

const FAILED_STATUSES = new Set([
  'technical-failure',
  'temporary-failure',
  'permanent-failure',
  'failed',
  'validation-failed',
  'virus-scan-failed',
  'cancelled',
]);

export class Jobs {
  private readonly db;
  private readonly running = new Set<Promise<unknown>>();
  private systemUser: Promise<string> | null = null;
  private readonly creation: CreationContext;
  private readonly processing: ProcessingContext;

  constructor(private readonly opts: JobsOptions) {
    this.db = opts.database.db;
    this.creation = {
      db: this.db,
      directory: opts.directory,
      limits: opts.limits,
      phoneRegion: opts.phoneRegion,
      systemUserId: () => this.systemUserId(),
    };
    this.processing = {
      database: opts.database,
      limits: opts.limits,
      phoneRegion: opts.phoneRegion,
      leaseSeconds: opts.leaseSeconds ?? 60,
      maxAttempts: opts.maxAttempts ?? 5,
      log: opts.logger,
    };
  }

  // ---- creating ------------------------------------------------------------------------------------------------

  /**
   * Checks the list and, if it can be sent, stores it as a job; `warnings` are the list's (duplicate recipients).
   * Throws JobRejected (the list's problems), SendRefused (template, permission, sender, schedule, daily limit) or
   * SpreadsheetReadError (unreadable file).
   */
  async create(caller: JobCaller, input: NewJob): Promise<{ job: JobView; warnings: string[] }> {
    const { jobId, warnings } = await createJob(this.creation, caller, input);
    return { job: (await this.get(caller.service.id, jobId))!, warnings };
  }

  private systemUserId(): Promise<string> {
    this.systemUser ??= systemUserId(this.db, this.opts.emailDomain);
    this.systemUser.catch(() => (this.systemUser = null));
    return this.systemUser;
  }

  // ---- reading -------------------------------------------------------------------------------------------------

  async get(serviceId: string, jobId: string): Promise<JobView | null> {
    const row = await findJob(this.db, serviceId, jobId);
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
    const rows = await countJobNotifications(this.db, job.serviceId, job.id);
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
    const template = await findTemplateVersion(this.db, job.templateId, job.templateVersion);
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
        const rows = await jobNotificationsAfter(this.db, serviceId, job.id, after, 5_000);
        if (rows.length === 0) return;
        let text = '';
        for (const r of rows) text += line(r.job_row_number!, r.to, r.status, r.updated_at ?? r.created_at);
        yield text;
        after = rows.at(-1)!.job_row_number!;
      }
    }
    const format = await jobFileFormat(this.db, job.id);
    if (!(await hasJobFile(this.db, job.id))) return;
    const file = { id: job.id, format, type: job.templateType };
    const chunk = (seq: number) => readJobFileChunk(this.db, job.id, seq);
    let text = '';
    for await (const row of storedRows(file, template, this.opts.phoneRegion, chunk)) {
      text += line(row.rowNumber, row.recipient, job.status, job.updatedAt ?? job.createdAt);
      if (text.length > 256 * 1024) {
        yield text;
        text = '';
      }
    }
    if (text) yield text;
  }

  // ---- cancelling ----------------------------------------------------------------------------------------------

  /** Cancels a job that has not started; gives back what it took from today's limits. */
  async cancel(serviceId: string, jobId: string): Promise<JobView> {
    const row = await cancelUnstartedJob(this.db, serviceId, jobId);
    if (!row) {
      const job = await this.get(serviceId, jobId);
      if (!job) throw new SendRefused({ code: 'job-not-found' });
      throw new SendRefused({ code: 'job-not-cancellable', status: job.status });
    }
    await refundCounted(this.opts.limits, serviceId, row);
    return (await this.get(serviceId, jobId))!;
  }

  // ---- processing ----------------------------------------------------------------------------------------------

  /**
   * Claims and runs one due job (this one if `jobId` is given). Resolves true when a job was run to the end, or
   * failed on its last attempt and ended as `error`; false when there was none to claim (not due, finished,
   * cancelled, or another processor holds it). Throws JobAttemptFailed when the job failed and will be tried again.
   */
  processNext(opts: { jobId?: string; onProgress?: NewJob['onProgress'] } = {}): Promise<boolean> {
    return processNextJob(this.processing, opts);
  }

  /** Starts processing a job now, in the background (right after the API created it). */
  kick(jobId: string): void {
    const p = this.processNext({ jobId })
      .catch((err) => {
        if (!(err instanceof JobAttemptFailed)) this.opts.logger?.error({ err, jobId }, 'job processing failed');
      })
      .finally(() => this.running.delete(p));
    this.running.add(p);
  }

  /** Resolves when every kicked job has finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
  }

  // ---- housekeeping --------------------------------------------------------------------------------------------

  /**
   * Deletes files kept past their 7 days (the job is archived) and chunks of uploads that never became a job
   * (refused lists whose process died before cleaning up). Returns the number of files removed.
   */
  async deleteExpiredFiles(): Promise<number> {
    const expired = await archiveExpiredJobs(this.db);
    if (expired.length > 0) await deleteJobFiles(this.db, expired);
    await deleteOrphanJobFiles(this.db);
    return expired.length;
  }
}
