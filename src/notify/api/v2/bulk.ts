/**
 * /v2/notifications/bulk: GC Notify's bulk API. A list of recipients, as `rows` (an array of arrays, headers
 * first) or `csv` (text), becomes a job (jobs/jobs.ts) that starts at once or at `scheduled_for`.
 *
 * Envoi adds, under the same path:
 *   GET  /v2/notifications/bulk/{job_id}          the job (same keys as the POST's `data`) and `progress`
 *   GET  /v2/notifications/bulk/{job_id}/report   CSV of every row with its status (formula-escaped)
 *   POST /v2/notifications/bulk/{job_id}/cancel   cancels a job that has not started
 */
import { Readable, Transform } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, badRequest, notFound } from './errors.ts';
import { presentJob } from './presenters.ts';
import { getJobRequest, postBulkRequest } from './schemas.ts';
import type { V2Context } from './request.ts';
import { callerOf, parseJsonBody } from './request.ts';
import type { ServiceRecord } from '../../sending/service-directory.ts';
import { JobRejected, type JobCounts } from '../../jobs/jobs.ts';
import { SpreadsheetReadError } from '../../jobs/spreadsheet.ts';

interface BulkBody {
  template_id: string;
  name: string;
  reference?: string;
  scheduled_for?: string | null;
  reply_to_id?: string | null;
  csv?: string;
  rows?: unknown[];
}

// The body a bulk request may have grows with the rows the service may send: about 1 KB a row, so 50,000 rows
// (the default) allow 50 MB. Never less than 10 MB (ten times the other routes' limit), never more than V8 can hold as one string.
const BODY_BYTES_PER_ROW = 1_000;
const MIN_BODY_BYTES = 10 * 1024 * 1024;
const MAX_BODY_BYTES = 500_000_000;

export function bulkBodyLimit(service: ServiceRecord): number {
  return Math.min(MAX_BODY_BYTES, Math.max(MIN_BODY_BYTES, service.maxRows * BODY_BYTES_PER_ROW));
}

const tooLarge = () => Object.assign(new Error('Request body is too large'), { statusCode: 413 });

/** Enforces the caller's own limit (authentication has run): at once from Content-Length, else while reading. */
async function limitBody(request: FastifyRequest, _reply: unknown, payload: NodeJS.ReadableStream) {
  const limit = bulkBodyLimit(callerOf(request).service);
  if (Number(request.headers['content-length'] ?? 0) > limit) throw tooLarge();
  let seen = 0;
  return payload.pipe(
    new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        seen += chunk.length;
        callback(seen > limit ? tooLarge() : null, chunk);
      },
    }),
  );
}

export function bulkRoutes(app: FastifyInstance, ctx: V2Context) {
  const validateBulk = ctx.compile<BulkBody>(postBulkRequest);
  const validateJobId = ctx.compile<{ job_id: string }>(getJobRequest);

  async function findJob(request: FastifyRequest) {
    const caller = callerOf(request);
    const { job_id } = validateJobId(request.params);
    const job = await ctx.jobs.get(caller.service.id, ctx.uuid(job_id));
    if (!job) throw notFound();
    return job;
  }

  app.post('/v2/notifications/bulk', { bodyLimit: MAX_BODY_BYTES, preParsing: limitBody }, async (request, reply) => {
    const caller = callerOf(request);
    ctx.rateLimiter.take(caller.service.id, caller.keyType, caller.service.rateLimit);
    const body = validateBulk(parseJsonBody(request));
    // As GC Notify: an empty `csv` counts as absent.
    if ([body.rows, body.csv].filter((source) => source !== undefined && source !== '').length !== 1) {
      throw badRequest('You should specify either rows or csv');
    }
    let job;
    try {
      ({ job } = await ctx.jobs.create(caller, {
        templateId: ctx.uuid(body.template_id),
        name: body.name,
        source: body.rows ? rowsAsCsv(body.rows) : textChunks(body.csv!),
        format: 'csv',
        scheduledFor: body.scheduled_for ? ctx.parseDate(body.scheduled_for) : null,
        replyToId: body.reply_to_id ? ctx.uuid(body.reply_to_id) : null,
        reference: body.reference ?? null,
      }));
    } catch (err) {
      if (err instanceof JobRejected) {
        const [first, ...more] = err.report.problems.map((p) => p.message);
        throw new ApiError(400, 'BadRequestError', first!, more);
      }
      if (err instanceof SpreadsheetReadError) throw badRequest(`Error converting to CSV: ${err.message}`);
      throw err;
    }
    if (job.status === 'pending') ctx.jobs.kick(job.id);
    return reply.code(201).send({ data: presentJob(job) });
  });

  app.get('/v2/notifications/bulk/:job_id', async (request) => {
    const job = await findJob(request);
    return { data: { ...presentJob(job), progress: presentCounts(await ctx.jobs.counts(job)) } };
  });

  app.get('/v2/notifications/bulk/:job_id/report', async (request, reply) => {
    const job = await findJob(request);
    const name = `${job.name.replace(/\.[A-Za-z0-9]+$/, '').replace(/[^\w.-]+/g, '-') || 'job'}-report.csv`;
    // The byte order mark makes Excel read the file as UTF-8 (accents in names and addresses).
    const lines = (async function* () {
      yield '\uFEFF';
      yield* ctx.jobs.report(job.serviceId, job.id);
    })();
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${name}"`)
      .send(Readable.from(lines));
  });

  app.post('/v2/notifications/bulk/:job_id/cancel', async (request) => {
    const job = await findJob(request);
    return { data: presentJob(await ctx.jobs.cancel(job.serviceId, job.id)) };
  });
}

function presentCounts(counts: JobCounts) {
  return {
    rows: counts.rows,
    not_queued: counts.notQueued,
    queued: counts.queued,
    sending: counts.sending,
    delivered: counts.delivered,
    failed: counts.failed,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The request's list as the bytes of a CSV file, which is what a job stores and reads.

/** `rows` written as CSV (as GC Notify does with Python's csv.writer), a few thousand rows per piece. */
function* rowsAsCsv(rows: unknown[]): Generator<string> {
  let text = '';
  for (const row of rows) {
    const cells = Array.isArray(row) ? row : [row];
    text += `${cells.map(csvInputCell).join(',')}\r\n`;
    if (text.length >= 64 * 1024) {
      yield text;
      text = '';
    }
  }
  if (text) yield text;
}

// Input cells are written exactly (no formula escaping: they are data, not a report for people); quoted when a
// separator, a quote or edge whitespace would otherwise change them.
function csvInputCell(value: unknown): string {
  const text =
    value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A long `csv` string in pieces of about a million characters, never splitting a surrogate pair. */
function* textChunks(text: string): Generator<string> {
  const size = 1 << 20;
  for (let at = 0; at < text.length; ) {
    let end = Math.min(text.length, at + size);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    yield text.slice(at, end);
    at = end;
  }
}
