/**
 * A job's stored rows, read back and turned into notification rows: each rendered as a single send renders it, in
 * batches for the bulk load (COPY on PostgreSQL). This is the hot path of a job: a million rows go through here.
 */
import { Readable } from 'node:stream';
import type { BulkColumn, BulkValue } from '../../platform/database/bulk-load.ts';
import type { TemplateCategory, TemplateType } from '../vocabulary.ts';
import { timeOrderedUuid } from '../../platform/ids.ts';
import type { ClaimedJob } from '../repositories/jobs.ts';
import {
  InvalidRecipientError,
  isSimulatedRecipient,
  normaliseEmail,
  validatePhoneNumber,
  type CountryCode,
} from '../../platform/recipients.ts';
import { PRIORITY_OF_CATEGORY, templateTexts } from '../sending/send-rules.ts';
import { renderEmailBody, renderEmailSubject, renderSms } from '../template-language/index.ts';
import { ONE_AHEAD, storedFile, type ChunkReader } from './job-files.ts';
import { RecipientListChecker } from './recipient-list.ts';
import { cleanCell } from './recipient-list-columns.ts';
import type { RecipientListOptions } from './recipient-list-report.ts';
import { readRows, type SpreadsheetFormat } from './spreadsheet.ts';

/** GC Notify's CSV_BULK_REDIRECT_THRESHOLD: jobs this big go to the bulk lane. */
export const BULK_LANE_THRESHOLD = 200;
// Rows per batch handed to the database: a COPY buffer or one INSERT's JSON parameter. Small enough that few
// rows outlive a young-generation collection (garbage promoted to the old one is what makes a heap grow).
export const INSERT_BATCH = 500;
/** How often (rows) the checking and queueing passes report progress. */
export const PROGRESS_EVERY = 5_000;

export interface JobProgressEvent {
  /** `checking`: rows read and checked so far; `queueing`: rows turned into notifications so far. */
  stage: 'checking' | 'queueing';
  rows: number;
  /** Bytes of the file read so far (checking). */
  bytes?: number;
  /** Rows in the job (queueing). */
  total?: number;
}

export type ProgressListener = (event: JobProgressEvent) => void | Promise<void>;

/** The notification columns a job fills, in the order notificationRow() gives them. */
export const NOTIFICATION_COLUMNS: readonly BulkColumn[] = [
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

export const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A row of a stored file, with what sending it needs. */
export interface StoredRow {
  rowNumber: number;
  recipient: string;
  normalisedRecipient: string | null;
  simulated: boolean;
  personalisation: Record<string, string>;
  reference: string | null;
  /** Set only if a row that passed the checks when the job was created fails them now. */
  errors: string[];
}

/** The rows of a job's stored file, read as they were when the job was created. */
export function storedRows(
  job: { id: string; format: SpreadsheetFormat; type: TemplateType },
  template: { subject: string | null; content: string },
  phoneRegion: string,
  chunk: ChunkReader,
): AsyncGenerator<StoredRow> {
  return readStoredRows(readRows(Readable.from(storedFile(chunk, job.id), ONE_AHEAD), job.format), {
    templateType: job.type,
    templateTexts: templateTexts(job.type, template),
    templateContent: template.content,
    maxRows: Number.MAX_SAFE_INTEGER,
    remainingToday: null,
    allowedRecipients: null,
    restrictionReason: null,
    phoneRegion,
    allowInternational: true,
    allowMixedSimulated: true,
  });
}

interface StoredColumns {
  recipientHeader: string;
  recipient: number;
  reference: number;
  placeholders: Array<[string, number]>;
}

/** Where the columns the checker used are in the stored file's header. */
function storedColumns(cells: string[], options: RecipientListOptions): StoredColumns {
  const header = new RecipientListChecker(options).header(cells);
  if (!header.recipientColumn || header.missing.length > 0 || header.duplicates.length > 0) {
    throw new Error('the stored file no longer has the headers it was checked with');
  }
  // The checker names columns by their header as written (trimmed, NFC); the first such column is the one used.
  const headers = cells.map((cell) => cleanCell(cell).normalize('NFC'));
  return {
    recipientHeader: header.recipientColumn,
    recipient: headers.indexOf(header.recipientColumn),
    reference: header.referenceColumn === null ? -1 : headers.indexOf(header.referenceColumn),
    placeholders: Object.entries(header.placeholderColumns).map(([name, column]) => [name, headers.indexOf(column)]),
  };
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
  let columns: StoredColumns | null = null;
  const region = { defaultRegion: options.phoneRegion as CountryCode };
  let rowNumber = 0;
  for await (const cells of rows) {
    if (!columns) {
      columns = storedColumns(cells, options);
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

/** What every row of one job shares. */
interface RowContext {
  job: ClaimedJob;
  template: { subject: string | null; content: string };
  priority: number;
  createdAt: string;
  /** Counts the rows queued for delivery (not simulated or failed ones), for the accepted metric. */
  tally: { queued: number };
}

/** A stored row as a notification row, in NOTIFICATION_COLUMNS' order; `now` is its batch's timestamp. */
function notificationRow(ctx: RowContext, row: StoredRow, now: string): BulkValue[] {
  const { job, template } = ctx;
  const personalisation = row.personalisation;
  let body: string;
  let rowSubject: string | null = null;
  let units = 0;
  if (job.template_type === 'email') {
    body = renderEmailBody(template.content, personalisation);
    rowSubject = renderEmailSubject(template.subject ?? '', personalisation);
  } else {
    const sms = renderSms(template.content, personalisation);
    body = sms.body;
    units = sms.fragmentCount;
  }
  // Rows were checked when the job was created; one that fails now (it should not) is kept as a failure.
  const failed = row.errors.length > 0;
  const status = failed ? 'technical-failure' : row.simulated ? 'delivered' : 'created';
  if (status === 'created') ctx.tally.queued++;
  return [
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
    ctx.priority,
    now,
    failed ? row.errors.join('; ') : null,
    job.created_by_id,
    job.id,
    row.rowNumber,
    ctx.createdAt,
    status === 'created' ? null : now,
    status === 'created' ? null : now,
  ];
}

/** The job's notifications, rendered as a single send renders them, in batches for insertRows. */
export async function* notificationRows(
  job: ClaimedJob,
  // Every row's created_at: the job's first processing start, the same for any processor that runs it, so the
  // unique index (job_id, job_row_number, created_at) on the day-partitioned table still refuses a second copy.
  processingStarted: Date,
  template: { subject: string | null; content: string; category: TemplateCategory },
  rows: AsyncIterable<StoredRow>,
  onProgress: ProgressListener | undefined,
  tally: { queued: number },
): AsyncGenerator<BulkValue[][]> {
  const ctx: RowContext = {
    job,
    template,
    // Big jobs wait behind single sends; a small one keeps its template's lane, but never the bulk one.
    priority:
      job.notification_count >= BULK_LANE_THRESHOLD
        ? PRIORITY_OF_CATEGORY.bulk
        : Math.min(PRIORITY_OF_CATEGORY[template.category], 1),
    createdAt: processingStarted.toISOString(),
    tally,
  };
  let batch: BulkValue[][] = [];
  // One timestamp per batch, formatted once rather than once a row and column.
  let now = new Date().toISOString();
  let done = 0;
  for await (const row of rows) {
    batch.push(notificationRow(ctx, row, now));
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
