/**
 * A job that fails every time it runs ends as `error` after JOB_MAX_ATTEMPTS (3 here) instead of being claimed again
 * for ever: tried again until then, its daily-limit counts given back, never claimed again, and the service's other
 * jobs unaffected; a failure that goes away lets the job finish; a processor that lost its claim does not end it. Then
 * how the ended job reads everywhere: `envoi send-bulk`'s outcome, the v2 API, and its page in the web UI (English
 * and French). The failures are real: a trigger on `notifications` refuses the rows for one recipient. Runs on
 * PGlite, and on PostgreSQL with DATABASE_URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { sentOn } from '../../src/notify/sending/limits.ts';
import { startEnvoi, type RunningEnvoi } from '../support/envoi.ts';
import { call } from '../api/helpers.ts';
import { Jobs, type JobCaller, type NewJob } from '../../src/notify/jobs/jobs.ts';
import { startJobLoop } from '../../src/notify/jobs/job-loop.ts';
import { sendBulk } from '../../src/commands/commands.ts';
import { scrape } from '../../src/platform/metrics.ts';
import { translator } from '../../src/platform/ui/i18n/index.ts';
import { emailRows, fixture, LIVE_ID, provisioned, TEAM_EMAIL, type Provisioned } from './fixture.ts';
import { memberSession } from '../support/sessions.ts';

const MAX_ATTEMPTS = 3;
const REFUSAL = 'row refused by the test';

let envoi: RunningEnvoi;
let live: Provisioned;
let caller: JobCaller;
let jobs: Jobs;
const logged: Array<{ level: 'warn' | 'error'; obj: Record<string, unknown>; msg?: string }> = [];

beforeAll(async () => {
  envoi = await startEnvoi({ bootstrap: fixture(), env: { JOB_MAX_ATTEMPTS: String(MAX_ATTEMPTS) } });
  live = provisioned(envoi, LIVE_ID);
  caller = { service: (await envoi.services.directory.service(LIVE_ID))!, keyId: null, keyType: 'normal' };
  jobs = jobsWith(envoi.config.jobs.maxAttempts);
  await sql`CREATE FUNCTION refuse_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION ${sql.lit(REFUSAL)}; END $$`.execute(
    envoi.database.db,
  );
});

afterAll(async () => {
  await envoi?.stop();
});

/** The app's job engine over the same database and daily limits, with its log kept for the assertions. */
function jobsWith(maxAttempts: number): Jobs {
  return new Jobs({
    database: envoi.database,
    directory: envoi.services.directory,
    limits: envoi.services.send.limits,
    phoneRegion: envoi.config.phoneRegion,
    emailDomain: envoi.config.emailDomain,
    maxAttempts,
    logger: {
      info() {},
      warn: (obj, msg) => void logged.push({ level: 'warn', obj: obj as Record<string, unknown>, msg }),
      error: (obj, msg) => void logged.push({ level: 'error', obj: obj as Record<string, unknown>, msg }),
    },
  });
}

const jobErrors = async () =>
  Number(/^envoi_jobs_ended_total\{status="error"\} (\S+)$/m.exec((await scrape()).body)?.[1]);

const logOf = (jobId: string, level: 'warn' | 'error') =>
  logged.filter((l) => l.level === level && l.obj.jobId === jobId);

let triggers = 0;
/** Makes the database refuse every notification to `address`, as it would a row it cannot take; returns the undo. */
async function refuseRowsTo(address: string): Promise<() => Promise<void>> {
  const name = `refuse_rows_${++triggers}`;
  const db = envoi.database.db;
  await sql`CREATE TRIGGER ${sql.id(name)} BEFORE INSERT ON notifications FOR EACH ROW WHEN (NEW.normalised_to = ${sql.lit(address)}) EXECUTE FUNCTION refuse_row()`.execute(
    db,
  );
  return async () => {
    await sql`DROP TRIGGER ${sql.id(name)} ON notifications`.execute(db);
  };
}

function list(addresses: string[], extra: Partial<NewJob> = {}): NewJob {
  const text = ['email address,name,code', ...addresses.map((a, i) => `${a},Person ${i},C${i}`)].join('\n');
  return {
    templateId: live.templates.email!,
    name: 'list.csv',
    source: [text],
    format: 'csv',
    scheduledFor: null,
    replyToId: null,
    reference: null,
    ...extra,
  };
}

/** Due now: the backoff between attempts is not waited out. */
async function makeDue(jobId: string): Promise<void> {
  await sql`UPDATE jobs SET next_attempt_at = now() WHERE id = ${jobId}`.execute(envoi.database.db);
}

const jobRow = (jobId: string) =>
  envoi.database.db
    .selectFrom('jobs')
    .select([
      'job_status',
      'attempts',
      'claimed_until',
      'processing_finished',
      sql<string>`counted_on::text`.as('counted_on'),
    ])
    .select(sql<boolean>`next_attempt_at > now()`.as('backing_off'))
    .where('id', '=', jobId)
    .executeTakeFirstOrThrow();

const notificationsOf = async (jobId: string) =>
  (
    await envoi.database.db
      .selectFrom('notifications')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('job_id', '=', jobId)
      .executeTakeFirstOrThrow()
  ).n;

/** The service's email messages left for today, as the next send or upload is checked against them. */
const remainingToday = () => envoi.services.send.limits.remaining(LIVE_ID, 'email', caller.service.messageLimits.email);

/** The service's stored email count for `day`. */
const countedOn = (day: string) => sentOn(envoi.database.db, LIVE_ID, day, 'email');

describe('a job that fails every time', () => {
  let failing: string;

  it('is tried again until JOB_MAX_ATTEMPTS, then ends as error with its daily-limit counts given back', async () => {
    expect(envoi.config.jobs.maxAttempts).toBe(MAX_ATTEMPTS);
    const remainingBefore = await remainingToday();
    const allow = await refuseRowsTo('refused@example.com');
    try {
      const { job } = await jobs.create(
        caller,
        list(['first@example.com', 'refused@example.com', 'third@example.com']),
      );
      failing = job.id;
      expect(await remainingToday()).toBe(remainingBefore - 3);
      const { counted_on: day } = await jobRow(job.id);
      const countedBefore = await countedOn(day);

      for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
        await makeDue(job.id);
        await expect(jobs.processNext({ jobId: job.id })).rejects.toThrow(REFUSAL);
        // Released for a later try, after a backoff.
        expect(await jobRow(job.id)).toMatchObject({
          job_status: 'in progress',
          attempts: attempt,
          claimed_until: null,
          backing_off: true,
        });
        expect(logOf(job.id, 'warn')).toHaveLength(attempt);
      }
      expect(logOf(job.id, 'error')).toEqual([]);
      const errorsBefore = await jobErrors();

      await makeDue(job.id);
      expect(await jobs.processNext({ jobId: job.id })).toBe(true);
      const ended = await jobRow(job.id);
      expect(ended).toMatchObject({ job_status: 'error', attempts: MAX_ATTEMPTS, claimed_until: null });
      // Counted for the EnvoiBulkJobErrors alert.
      expect(await jobErrors()).toBe(errorsBefore + 1);
      expect(ended.processing_finished).toBeInstanceOf(Date);
      expect((await jobs.get(LIVE_ID, job.id))!.status).toBe('error');
      expect(await notificationsOf(job.id)).toBe(0);

      // Logged once at error level, with the job and the database's refusal.
      const errors = logOf(job.id, 'error');
      expect(errors).toHaveLength(1);
      expect(String((errors[0]!.obj.err as Error).message)).toContain(REFUSAL);
      expect(logOf(job.id, 'warn')).toHaveLength(MAX_ATTEMPTS - 1);

      // Its three rows no longer count against the day they were counted on.
      expect(await countedOn(day)).toBe(countedBefore - 3);
      expect(await remainingToday()).toBe(remainingBefore);

      // Never claimed again, even when due.
      await makeDue(job.id);
      expect(await jobs.processNext({ jobId: job.id })).toBe(false);
      expect(await jobRow(job.id)).toMatchObject({ job_status: 'error', attempts: MAX_ATTEMPTS });
    } finally {
      await allow();
    }
    // Nothing given back twice: a cancel is refused, and the count stays.
    await expect(jobs.cancel(LIVE_ID, failing)).rejects.toMatchObject({
      refusal: { code: 'job-not-cancellable', status: 'error' },
    });
    expect(await remainingToday()).toBe(remainingBefore);
  });

  it('holds up none of the service’s other jobs, while it is retried or after it has ended', async () => {
    const allow = await refuseRowsTo('refused-again@example.com');
    try {
      const { job: poisoned } = await jobs.create(caller, list(['refused-again@example.com']));
      await expect(jobs.processNext({ jobId: poisoned.id })).rejects.toThrow(REFUSAL);
      // The job loop's own call (any due job): the other job is run while the failing one backs off.
      const { job: other } = await jobs.create(caller, list(['other@example.com', 'another@example.com']));
      expect(await jobs.processNext()).toBe(true);
      expect(await jobRow(other.id)).toMatchObject({ job_status: 'finished' });
      expect(await notificationsOf(other.id)).toBe(2);

      for (let attempt = 2; attempt <= MAX_ATTEMPTS; attempt++) {
        await makeDue(poisoned.id);
        await jobs.processNext({ jobId: poisoned.id }).catch(() => {});
      }
      expect(await jobRow(poisoned.id)).toMatchObject({ job_status: 'error' });
      const { job: after } = await jobs.create(caller, list(['after@example.com']));
      expect(await jobs.processNext()).toBe(true);
      expect(await jobRow(after.id)).toMatchObject({ job_status: 'finished' });
      expect(await jobs.processNext()).toBe(false);
    } finally {
      await allow();
    }
  });
});

describe('the worker’s job loop', () => {
  it('logs a failed attempt once, as a warning, not a second time as an error', async () => {
    const loopLog: Array<{ level: string; msg?: string }> = [];
    const allow = await refuseRowsTo('loop-refused@example.com');
    const { job } = await jobs.create(caller, list(['loop-refused@example.com']));
    const loop = startJobLoop(jobs, {
      pollMs: 10,
      logger: {
        info: (_obj, msg) => void loopLog.push({ level: 'info', msg }),
        warn: (_obj, msg) => void loopLog.push({ level: 'warn', msg }),
        error: (_obj, msg) => void loopLog.push({ level: 'error', msg }),
      },
    });
    try {
      await expect.poll(async () => (await jobRow(job.id)).attempts, { timeout: 10_000 }).toBe(1);
      await expect.poll(() => logOf(job.id, 'warn').length).toBe(1);
    } finally {
      await loop.stop();
      await allow();
    }
    expect(logOf(job.id, 'error')).toEqual([]);
    expect(loopLog.filter((l) => l.level === 'error')).toEqual([]);
    // Tried again later: released with a backoff, not ended.
    expect(await jobRow(job.id)).toMatchObject({ job_status: 'in progress', backing_off: true });
  });
});

describe('a job whose failure goes away', () => {
  it('finishes normally on its next attempt, its counts kept', async () => {
    const remainingBefore = await remainingToday();
    const allow = await refuseRowsTo('flaky@example.com');
    const { job } = await jobs.create(caller, list(['flaky@example.com', 'steady@example.com']));
    try {
      await expect(jobs.processNext({ jobId: job.id })).rejects.toThrow(REFUSAL);
    } finally {
      await allow();
    }
    await makeDue(job.id);
    expect(await jobs.processNext({ jobId: job.id })).toBe(true);
    expect(await jobRow(job.id)).toMatchObject({ job_status: 'finished', attempts: 2 });
    expect(await notificationsOf(job.id)).toBe(2);
    expect(await remainingToday()).toBe(remainingBefore - 2);
    expect(logOf(job.id, 'error')).toEqual([]);
  });

  it('is not ended by a processor that lost its claim on the last attempt', async () => {
    const db = envoi.database.db;
    // Another processor claiming the job in the middle of the run: its attempt number moves on under this one.
    await sql`CREATE FUNCTION take_job_over() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN UPDATE jobs SET attempts = attempts + 1 WHERE id = NEW.job_id; RETURN NEW; END $$`.execute(db);
    await sql`CREATE TRIGGER take_job_over BEFORE INSERT ON notifications FOR EACH ROW WHEN (NEW.normalised_to = 'taken@example.com') EXECUTE FUNCTION take_job_over()`.execute(
      db,
    );
    const remainingBefore = await remainingToday();
    const { job } = await jobs.create(caller, list(['taken@example.com']));
    try {
      // The claim below is the last attempt.
      await sql`UPDATE jobs SET attempts = ${MAX_ATTEMPTS - 1} WHERE id = ${job.id}`.execute(db);
      expect(await jobs.processNext({ jobId: job.id })).toBe(false);
      expect(await jobRow(job.id)).toMatchObject({ job_status: 'in progress', attempts: MAX_ATTEMPTS });
      expect(logged.filter((l) => l.obj.jobId === job.id)).toEqual([]);
      expect(await remainingToday()).toBe(remainingBefore - 1);
    } finally {
      await sql`DROP TRIGGER take_job_over ON notifications`.execute(db);
      await sql`DROP FUNCTION take_job_over()`.execute(db);
    }
  });

  it('ends as error, without running, when claimed past the maximum after processors that died', async () => {
    const db = envoi.database.db;
    const remainingBefore = await remainingToday();
    const { job } = await jobs.create(caller, list(['crashing@example.com', 'crashing-too@example.com']));
    // MAX_ATTEMPTS processors claimed it and died (their leases ran out) without reaching an outcome: a job that
    // kills its process each time would never reach the failure path.
    await sql`UPDATE jobs SET attempts = ${MAX_ATTEMPTS}, job_status = 'in progress', claimed_until = NULL WHERE id = ${job.id}`.execute(
      db,
    );
    expect(await jobs.processNext({ jobId: job.id })).toBe(true);
    expect(await jobRow(job.id)).toMatchObject({
      job_status: 'error',
      attempts: MAX_ATTEMPTS + 1,
      claimed_until: null,
    });
    expect(await notificationsOf(job.id)).toBe(0);
    expect(await remainingToday()).toBe(remainingBefore);
    const errors = logOf(job.id, 'error');
    expect(errors).toHaveLength(1);
    expect(String((errors[0]!.obj.err as Error).message)).toBe(`no outcome after ${MAX_ATTEMPTS} attempts`);
  });
});

describe('a job that ended as error, as it is shown', () => {
  let jobId: string;

  beforeAll(async () => {
    const allow = await refuseRowsTo('shown@example.com');
    try {
      // `envoi send-bulk` with JOB_MAX_ATTEMPTS=1: its one attempt fails, and its outcome says so.
      const outcome = await sendBulk(
        { directory: envoi.services.directory, jobs: jobsWith(1) },
        {
          serviceId: LIVE_ID,
          templateId: live.templates.email!,
          name: '<b>Rappels</b> & suivis.csv',
          format: 'csv',
          scheduledFor: null,
        },
        (async function* () {
          yield Buffer.from(
            emailRows(2)
              .concat([['shown@example.com', 'Shown', 'C9']])
              .map((r) => r.join(','))
              .join('\n'),
          );
        })(),
        () => {},
      );
      expect(outcome).toMatchObject({ type: 'done', status: 'error', counts: { rows: 3, notQueued: 3, queued: 0 } });
      jobId = (outcome as { jobId: string }).jobId;
    } finally {
      await allow();
    }
  });

  it('is `error` in the v2 API, with none of its rows queued', async () => {
    const res = await call(envoi.url, 'GET', `/v2/notifications/bulk/${jobId}`, { key: live.keys.live! });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({
      id: jobId,
      job_status: 'error',
      notification_count: 3,
      progress: { rows: 3, not_queued: 3, queued: 0 },
    });
    expect(res.body.data.processing_finished).not.toBeNull();
  });

  it('says on its page, in English and French, that nothing was sent and what to do, with the file name escaped', async () => {
    const session = await memberSession(envoi.database.db, TEAM_EMAIL);
    for (const lang of ['en', 'fr'] as const) {
      const res = await fetch(`${envoi.url}/services/${LIVE_ID}/jobs/${jobId}`, {
        headers: { cookie: `envoi_session=${session}; lang=${lang}` },
      });
      expect(res.status).toBe(200);
      const page = await res.text();
      const { t } = translator(lang);
      expect(page).toContain(`<html lang="${lang}"`);
      expect(page).toContain(`id="job-status">${t('send.job.status.error')}</p>`);
      expect(page).toContain(t('send.job.error.body'));
      expect(page).toContain(t('send.job.error.next'));
      expect(page).toContain(
        `<a href="/services/${LIVE_ID}/send/${live.templates.email}/upload">${t('send.job.error.uploadAgain')}</a>`,
      );
      // Its rows are not sent, rather than waiting to be; the page no longer refreshes itself.
      expect(page).toContain(`<th scope="row">${t('send.job.count.notSent')}</th><td>3</td>`);
      expect(page).toContain(`<th scope="row">${t('send.job.count.waiting')}</th><td>0</td>`);
      expect(page).toContain('data-poll="done"');
      expect(page).not.toContain('<b>Rappels</b>');
      expect(page).toContain('&lt;b&gt;Rappels&lt;/b&gt; &amp; suivis.csv');
    }
  });
});
