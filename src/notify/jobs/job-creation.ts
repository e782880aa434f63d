/**
 * Creating a job reads the upload once, as a stream: every row is checked (RecipientListChecker) while the bytes
 * are stored in `job_files` chunks, so memory stays flat whatever the file's size. A list with problems is
 * refused with the whole report and its chunks are deleted. A good one takes its rows from the daily limits and
 * becomes a `pending` job (or `scheduled`, up to 96 hours ahead).
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { getCountryCallingCode } from 'libphonenumber-js/max';
import type { Db } from '../../platform/database/connection.ts';
import { insertJob } from '../repositories/jobs.ts';
import type { DailyLimits, Reservation } from '../sending/limits.ts';
import type { CountryCode } from '../../platform/recipients.ts';
import { SendRefused, type LimitChannel } from '../sending/refusals.ts';
import {
  checkSchedule,
  recipientRestriction,
  resolveSender,
  templateTexts,
  templateToSend,
  type Caller,
} from '../sending/send-rules.ts';
import type { ServiceDirectory, TemplateRecord } from '../sending/service-directory.ts';
import { ChunkWriter, ONE_AHEAD, type FileSource } from './job-files.ts';
import { INSERT_BATCH, PROGRESS_EVERY, type ProgressListener, yieldToEventLoop } from './job-rows.ts';
import { RecipientListChecker } from './recipient-list.ts';
import type { ListReport } from './recipient-list-report.ts';
import { readRows, type SpreadsheetFormat } from './spreadsheet.ts';

/** Uploaded files are deleted this long after the job was created. */
export const FILE_RETENTION_DAYS = 7;

/**
 * Who is sending: an API key, an operator at the command line (no key), or a person in the web UI; a job names
 * Envoi's system user as its author when no person sent it. The same caller as a single send's.
 */
export type JobCaller = Caller;

export interface NewJob {
  templateId: string;
  /** Shown as the job's original_file_name. */
  name: string;
  /** The file's bytes (or text, e.g. the bulk API's `csv`). */
  source: FileSource;
  format: SpreadsheetFormat;
  scheduledFor: Date | null;
  /** A reply-to address (email) or text sender (sms) of the service, by id; null for the default. */
  replyToId: string | null;
  /** Client reference for rows without a `reference` column. */
  reference: string | null;
  onProgress?: ProgressListener;
}

/** The list has problems; nothing was stored. `report.problems` in GC Notify's words, `report.summary` for people. */
export class JobRejected extends Error {
  constructor(readonly report: ListReport) {
    super(report.problems.map((p) => p.message).join('\n'));
    this.name = 'JobRejected';
  }
}

export interface CreationContext {
  db: Db;
  directory: ServiceDirectory;
  limits: DailyLimits;
  phoneRegion: string;
  /** Envoi's system user, the author of jobs no person sent. */
  systemUserId(): Promise<string>;
}

/** A list that was read, checked and stored. */
interface StoredList {
  report: ListReport;
  /** Text messages to numbers outside the service's own country (simulated ones aside). */
  international: number;
}

/**
 * Checks the list and, if it can be sent, stores it as a job; resolves to its id and the list's warnings.
 * Throws JobRejected (the list's problems), SendRefused (template, permission, sender, schedule, daily limit) or
 * SpreadsheetReadError (unreadable file).
 */
export async function createJob(
  ctx: CreationContext,
  caller: JobCaller,
  input: NewJob,
): Promise<{ jobId: string; warnings: string[] }> {
  const { service } = caller;
  const template = await templateToSend(ctx.directory, service.id, input.templateId, 'job');
  const type = template.type;
  if (!service.permissions.has(type)) throw new SendRefused({ code: 'channel-not-allowed', channel: type });
  checkSchedule(input.scheduledFor);
  const replyToText = await resolveSender(ctx.directory, service, type, input.replyToId);

  const checker = await listChecker(ctx, caller, template);
  const jobId = randomUUID();
  const file = new ChunkWriter(ctx.db, jobId);
  const list = await readAndStore(ctx, file, checker, type, input);

  // The rows are counted against today's limits now, as a single send is counted when it is accepted.
  const reservations: Reservation[] = [];
  try {
    const counted = await reserveRows(ctx.limits, caller, type, list, reservations);
    const createdBy = caller.createdById ?? (await ctx.systemUserId());
    const now = new Date();
    const applyCounts = await ctx.db.transaction().execute(async (trx) => {
      await insertJob(trx, {
        id: jobId,
        service_id: service.id,
        template_id: template.id,
        template_version: template.version,
        template_type: type,
        original_file_name: input.name,
        file_format: input.format,
        notification_count: list.report.rowCount,
        job_status: input.scheduledFor ? 'scheduled' : 'pending',
        api_key_id: caller.keyId,
        key_type: caller.keyType,
        created_by_id: createdBy,
        sender_id: input.replyToId,
        reply_to_text: replyToText,
        client_reference: input.reference,
        scheduled_for: input.scheduledFor,
        counted: reservations.length ? JSON.stringify(counted) : null,
        // The day the counter rows were taken on (reserved just before midnight, committed just after: the former).
        counted_on: reservations[0]?.day ?? null,
        next_attempt_at: input.scheduledFor ?? now,
        file_expires_at: new Date(now.getTime() + FILE_RETENTION_DAYS * 86_400_000),
        created_at: now,
      });
      return ctx.limits.commit(trx, reservations);
    });
    applyCounts();
  } catch (err) {
    for (const r of reservations) ctx.limits.release(r);
    await file.discard();
    throw err;
  }
  return { jobId, warnings: list.report.warnings };
}

/** The checker of this caller's list for this template: its restriction and what is left of today's limit. */
async function listChecker(
  ctx: CreationContext,
  caller: JobCaller,
  template: TemplateRecord,
): Promise<RecipientListChecker> {
  const { service } = caller;
  const type = template.type;
  const restriction = recipientRestriction(caller);
  return new RecipientListChecker({
    templateType: type,
    templateTexts: templateTexts(type, template),
    templateContent: template.content,
    maxRows: service.maxRows,
    remainingToday:
      caller.keyType !== 'test' ? await ctx.limits.remaining(service.id, type, service.messageLimits[type]) : null,
    allowedRecipients: restriction ? await ctx.directory.allowedRecipients(service.id) : null,
    restrictionReason: restriction === 'team-key' ? 'team' : restriction ? 'trial' : null,
    phoneRegion: ctx.phoneRegion,
    allowInternational: service.permissions.has('international_sms'),
    allowMixedSimulated: caller.keyType === 'test',
  });
}

/** Reads the upload once: checks every row while the file is stored. Refused or failed, the chunks are deleted. */
async function readAndStore(
  ctx: CreationContext,
  file: ChunkWriter,
  checker: RecipientListChecker,
  type: TemplateRecord['type'],
  input: NewJob,
): Promise<StoredList> {
  const ownPrefix = `+${getCountryCallingCode(ctx.phoneRegion as CountryCode)}`;
  let international = 0;
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
    const report = checker.finish();
    if (input.onProgress) await input.onProgress({ stage: 'checking', rows: report.rowCount, bytes: file.bytes });
    if (!report.ok) throw new JobRejected(report);
    return { report, international };
  } catch (err) {
    await file.discard();
    throw err;
  }
}

/**
 * Takes the list's messages (and its international ones) from today's limits, pushing each reservation as it is
 * made so that the caller can release them all if anything fails; resolves to what was counted, by channel.
 */
async function reserveRows(
  limits: DailyLimits,
  caller: JobCaller,
  type: TemplateRecord['type'],
  { report, international }: StoredList,
  reservations: Reservation[],
): Promise<Partial<Record<LimitChannel, number>>> {
  const { service } = caller;
  const counted: Partial<Record<LimitChannel, number>> = {};
  if (caller.keyType === 'test' || report.messageCount === 0) return counted;
  reservations.push(await limits.reserve(service.id, { [type]: service.messageLimits[type] }, report.messageCount));
  counted[type] = report.messageCount;
  if (international > 0) {
    reservations.push(
      await limits.reserve(service.id, { international_sms: service.messageLimits.international_sms }, international),
    );
    counted.international_sms = international;
  }
  return counted;
}
