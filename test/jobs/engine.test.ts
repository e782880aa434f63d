/**
 * The job engine without HTTP: files in every format and encoding Envoi reads, the rows it makes of them (lanes,
 * references, simulated recipients), progress, cancelling and scheduling, the daily limit, the report from the
 * stored file, and the deletion of files past their retention. Runs on PGlite, and on PostgreSQL with DATABASE_URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import ExcelJS from 'exceljs';
import { startEnvoi, type RunningEnvoi } from '../support/envoi.ts';
import { refusalAnswer } from '../../src/notify/api/v2/refusal-wire.ts';
import { SendRefused } from '../../src/notify/sending/refusals.ts';
import { JobRejected, type JobCaller, type JobProgressEvent, type NewJob } from '../../src/notify/jobs/jobs.ts';
import { sentOn, utcDay } from '../../src/notify/sending/limits.ts';
import { fixture, LIVE_ID, provisioned, TRIAL_ID, type Provisioned } from './fixture.ts';

let envoi: RunningEnvoi;
let live: Provisioned;
let trial: Provisioned;
let liveCaller: JobCaller;
let trialCaller: JobCaller;

beforeAll(async () => {
  envoi = await startEnvoi({ bootstrap: fixture() });
  live = provisioned(envoi, LIVE_ID);
  trial = provisioned(envoi, TRIAL_ID);
  liveCaller = { service: (await envoi.services.directory.service(LIVE_ID))!, keyId: null, keyType: 'normal' };
  trialCaller = { service: (await envoi.services.directory.service(TRIAL_ID))!, keyId: null, keyType: 'normal' };
});

afterAll(async () => {
  await envoi?.stop();
});

function job(templateId: string, source: NewJob['source'], extra: Partial<NewJob> = {}): NewJob {
  return {
    templateId,
    name: 'list.csv',
    source,
    format: 'csv',
    scheduledFor: null,
    replyToId: null,
    reference: null,
    ...extra,
  };
}

/** Creates and queues a job; returns its notifications in row order. */
async function run(caller: JobCaller, input: NewJob) {
  const { job: created } = await envoi.services.jobs.create(caller, input);
  expect(await envoi.services.jobs.processNext({ jobId: created.id })).toBe(true);
  const rows = await envoi.database.db
    .selectFrom('notifications')
    .select([
      'job_row_number',
      'to',
      'normalised_to',
      'subject',
      'body',
      'status',
      'priority',
      'client_reference',
      'billable_units',
    ])
    .where('job_id', '=', created.id)
    .orderBy('job_row_number')
    .execute();
  return { job: created, rows };
}

describe('reading files', () => {
  const template = () => live.templates.email!;
  const names = (rows: { body: string }[]) => rows.map((r) => /^Hello (.*), your code/.exec(r.body)?.[1]);

  it('reads UTF-8 with and without a byte order mark, and Windows-1252', async () => {
    const text = 'email address,name,code\r\nzoe@example.com,Zoë O’Brien,1\r\nrene@example.com,René,2\r\n';
    const withBom = await run(
      liveCaller,
      job(template(), [Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')])]),
    );
    expect(names(withBom.rows)).toEqual(['Zoë O’Brien', 'René']);
    const plain = await run(liveCaller, job(template(), [Buffer.from(text, 'utf8')]));
    expect(names(plain.rows)).toEqual(['Zoë O’Brien', 'René']);
    // Excel's plain CSV on Windows: é is 0xE9, ë 0xEB, the curly apostrophe 0x92.
    const cp1252 = Buffer.from(text.replace('’', '\x92'), 'latin1');
    expect(cp1252.includes(0x92)).toBe(true);
    const windows = await run(liveCaller, job(template(), [cp1252]));
    expect(names(windows.rows)).toEqual(['Zoë O’Brien', 'René']);
  });

  it('reads files that arrive in many small pieces, split anywhere', async () => {
    const bytes = Buffer.from(
      'email address,name,code\nzoe@example.com,Zoë,1\nrene@example.com,"René, Jr.",2\n',
      'utf8',
    );
    const pieces = [...bytes].map((b) => Buffer.from([b]));
    const { rows } = await run(liveCaller, job(template(), pieces));
    expect(names(rows)).toEqual(['Zoë', 'René, Jr.']);
  });

  it('reads TSV, including Excel’s UTF-16 “Unicode Text”', async () => {
    const text = 'email address\tname\tcode\nzoe@example.com\tZoë\t1\n';
    const tsv = await run(liveCaller, job(template(), [Buffer.from(text)], { format: 'tsv', name: 'list.tsv' }));
    expect(names(tsv.rows)).toEqual(['Zoë']);
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const unicode = await run(liveCaller, job(template(), [utf16], { format: 'tsv', name: 'list.txt' }));
    expect(names(unicode.rows)).toEqual(['Zoë']);
  });

  it('reads Excel workbooks, stored and read back as a stream', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Recipients');
    sheet.addRow(['Email Address', 'Name', 'Code']);
    sheet.addRow(['zoe@example.com', 'Zoë', 1234]);
    sheet.addRow(['rene@example.com', 'René', 'R-2']);
    const bytes = Buffer.from(await workbook.xlsx.writeBuffer());
    const { rows } = await run(liveCaller, job(template(), [bytes], { format: 'xlsx', name: 'list.xlsx' }));
    expect(rows.map((r) => r.body)).toEqual(['Hello Zoë, your code is 1234.', 'Hello René, your code is R-2.']);
  });

  it('refuses a list with problems, with the whole report, and keeps none of its file', async () => {
    const error = await envoi.services.jobs
      .create(liveCaller, job(template(), ['email address,name,code\nnot-an-address,A,1\nb@example.com,,2\n']))
      .catch((err) => err);
    expect(error).toBeInstanceOf(JobRejected);
    const report = (error as JobRejected).report;
    expect(report.ok).toBe(false);
    expect(report.summary).toContain('Row 1, column "email address": Not a valid email address');
    expect(report.summary).toContain('Row 2, column "name": Missing');
    const { n } = (
      await sql<{
        n: number;
      }>`SELECT count(*)::int AS n FROM job_files WHERE job_id NOT IN (SELECT id FROM jobs)`.execute(envoi.database.db)
    ).rows[0]!;
    expect(n).toBe(0);
  });
});

describe('the rows of a job', () => {
  it('are rendered like single sends, with the row’s reference, and simulated recipients never sent', async () => {
    const { rows } = await run(
      liveCaller,
      job(
        live.templates.email!,
        [
          'email address,name,code,reference\nA@Example.com,Ann,1,ref-1\nsimulate-delivered@notification.canada.ca,Sim,2,\n',
        ],
        {
          reference: 'job-ref',
        },
      ),
    );
    expect(rows.map((r) => [r.to, r.normalised_to, r.subject, r.status, r.client_reference])).toEqual([
      ['A@Example.com', 'a@example.com', 'Hello Ann', 'created', 'ref-1'],
      [
        'simulate-delivered@notification.canada.ca',
        'simulate-delivered@notification.canada.ca',
        'Hello Sim',
        'delivered',
        'job-ref',
      ],
    ]);
  });

  it('are text messages with their fragments counted, sent from the service’s default sender', async () => {
    const { rows } = await run(liveCaller, job(live.templates.sms!, ['phone number,name\n613 555 0123,Ann\n']));
    expect(rows.map((r) => [r.to, r.normalised_to, r.body, r.billable_units])).toEqual([
      ['613 555 0123', '+16135550123', 'Hello Ann', 1],
    ]);
  });

  it('go to the bulk lane from 200 rows; a small job keeps its template’s lane', async () => {
    let text = 'email address\n';
    for (let i = 0; i < 200; i++) text += `p${i}@example.com\n`;
    const big = await run(liveCaller, job(live.templates.plain!, [text]));
    expect(new Set(big.rows.map((r) => r.priority))).toEqual(new Set([2]));
    expect(big.rows.map((r) => r.job_row_number)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const smallHigh = await run(liveCaller, job(live.templates.plain!, ['email address\nq@example.com\n']));
    expect(smallHigh.rows[0]!.priority).toBe(0);
    const smallNormal = await run(
      liveCaller,
      job(live.templates.email!, ['email address,name,code\nq@example.com,Q,1\n']),
    );
    expect(smallNormal.rows[0]!.priority).toBe(1);
  });

  it('report their progress as the file is checked and as they are queued', async () => {
    const events: JobProgressEvent[] = [];
    let text = 'email address\n';
    for (let i = 0; i < 5_000; i++) text += `p${i}@example.com\n`;
    const { job: created } = await envoi.services.jobs.create(
      liveCaller,
      job(live.templates.plain!, [text], { onProgress: (e) => void events.push(e) }),
    );
    await envoi.services.jobs.processNext({ jobId: created.id, onProgress: (e) => void events.push(e) });
    const checking = events.filter((e) => e.stage === 'checking');
    const queueing = events.filter((e) => e.stage === 'queueing');
    expect(checking.at(-1)).toEqual({ stage: 'checking', rows: 5_000, bytes: Buffer.byteLength(text) });
    expect(queueing.at(-1)).toEqual({ stage: 'queueing', rows: 5_000, total: 5_000 });
    expect(queueing.length).toBeGreaterThan(1);
    expect(await envoi.services.jobs.counts(created)).toEqual({
      rows: 5_000,
      notQueued: 0,
      queued: 5_000,
      sending: 0,
      delivered: 0,
      failed: 0,
    });
  });
});

describe('scheduling and cancelling', () => {
  const sentToday = (serviceId: string) => sentOn(envoi.database.db, serviceId, utcDay(), 'email');

  it('keeps a scheduled job until it is due, then queues it', async () => {
    const at = new Date(Date.now() + 2 * 3_600_000);
    const { job: created } = await envoi.services.jobs.create(
      liveCaller,
      job(live.templates.plain!, ['email address\nlater@example.com\n'], { scheduledFor: at }),
    );
    expect(created.status).toBe('scheduled');
    expect(created.scheduledFor?.toISOString()).toBe(at.toISOString());
    expect(await envoi.services.jobs.processNext({ jobId: created.id })).toBe(false);
    await sql`UPDATE jobs SET next_attempt_at = now() WHERE id = ${created.id}`.execute(envoi.database.db);
    expect(await envoi.services.jobs.processNext({ jobId: created.id })).toBe(true);
    expect((await envoi.services.jobs.get(LIVE_ID, created.id))!.status).toBe('finished');
  });

  it('refuses a time in the past or more than 96 hours ahead', async () => {
    for (const [hours, message] of [
      [-1, 'scheduled_for datetime cannot be in the past'],
      [97, 'scheduled_for datetime can only be up to 96 hours in the future'],
    ] as const) {
      const refused = envoi.services.jobs.create(
        liveCaller,
        job(live.templates.plain!, ['email address\nx@example.com\n'], {
          scheduledFor: new Date(Date.now() + hours * 3_600_000),
        }),
      );
      expect(await refusedAs(refused)).toBe(message);
    }
  });

  it('counts a job against the daily limit when it is accepted, and gives the count back if it is cancelled', async () => {
    const before = await sentToday(TRIAL_ID);
    const { job: created } = await envoi.services.jobs.create(
      trialCaller,
      job(trial.templates.email!, ['email address,name\ntrial.member@example.gc.ca,T\nguest@example.com,G\n'], {
        scheduledFor: new Date(Date.now() + 3_600_000),
      }),
    );
    expect(await sentToday(TRIAL_ID)).toBe(before + 2);
    const cancelled = await envoi.services.jobs.cancel(TRIAL_ID, created.id);
    expect(cancelled.status).toBe('cancelled');
    expect(await sentToday(TRIAL_ID)).toBe(before);
    expect(await envoi.services.jobs.processNext({ jobId: created.id })).toBe(false);
    expect(await envoi.services.jobs.counts(created)).toMatchObject({ rows: 2, notQueued: 2 });
    expect(await refusedAs(envoi.services.jobs.cancel(TRIAL_ID, created.id))).toBe('Job has already been cancelled');
  });

  it('cannot cancel a job once it has started', async () => {
    const { job: created } = await envoi.services.jobs.create(
      liveCaller,
      job(live.templates.plain!, ['email address\nstarted@example.com\n']),
    );
    await sql`UPDATE jobs SET job_status = 'in progress' WHERE id = ${created.id}`.execute(envoi.database.db);
    expect(await refusedAs(envoi.services.jobs.cancel(LIVE_ID, created.id))).toBe(
      'Job cannot be cancelled: it is in progress',
    );
    expect(await refusedAs(envoi.services.jobs.cancel(TRIAL_ID, created.id))).toBe('No result found');
  });
});

describe('the report and the stored file', () => {
  it('lists the rows of a job not yet sent from its file, with the job’s status', async () => {
    const { job: created } = await envoi.services.jobs.create(
      liveCaller,
      job(live.templates.plain!, ['email address\n+danger@example.com\n=cmd@example.com\nplain@example.com\n'], {
        name: '@list.csv',
        scheduledFor: new Date(Date.now() + 3_600_000),
      }),
    );
    let text = '';
    for await (const piece of envoi.services.jobs.report(LIVE_ID, created.id)) text += piece;
    const lines = text.trim().split('\r\n');
    expect(lines[0]).toBe('Row number,Recipient,Template,Type,Job,Status,Time');
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 6).join(','))).toEqual([
      "1,'+danger@example.com,Plain,Email,'@list.csv,scheduled",
      "2,'=cmd@example.com,Plain,Email,'@list.csv,scheduled",
      "3,plain@example.com,Plain,Email,'@list.csv,scheduled",
    ]);
  });

  it('deletes files past their retention (the job is archived) and chunks of uploads that never became jobs', async () => {
    const { job: created } = await envoi.services.jobs.create(
      liveCaller,
      job(live.templates.plain!, ['email address\nold@example.com\n']),
    );
    await envoi.services.jobs.processNext({ jobId: created.id });
    const orphan = '77777777-7777-4777-8777-777777777777';
    await sql`INSERT INTO job_files (job_id, seq, bytes, created_at) VALUES (${orphan}, 0, '\\x00', now() - interval '2 days')`.execute(
      envoi.database.db,
    );
    await sql`UPDATE jobs SET file_expires_at = now() - interval '1 minute' WHERE id = ${created.id}`.execute(
      envoi.database.db,
    );
    expect(await envoi.services.jobs.deleteExpiredFiles()).toBe(1);
    const left = await envoi.database.db
      .selectFrom('job_files')
      .select('job_id')
      .where('job_id', 'in', [created.id, orphan])
      .execute();
    expect(left).toEqual([]);
    expect((await envoi.services.jobs.get(LIVE_ID, created.id))!.archived).toBe(true);
  });
});

/** The refusal a call ends in, in the API's words (what a client of /v2/notifications/bulk would read). */
async function refusedAs(call: Promise<unknown>): Promise<string> {
  const error = await call.then(
    () => null,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(SendRefused);
  return refusalAnswer((error as SendRefused).refusal, '/').message;
}
