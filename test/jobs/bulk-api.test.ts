/**
 * POST /v2/notifications/bulk as GC Notify's clients use it: every error message of the reference, the 201 job
 * shape, and what becomes of the rows (GET of the job with its progress, include_jobs on the list, the report,
 * cancelling and scheduling). Runs on PGlite, and on PostgreSQL with DATABASE_URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { startEnvoi, type RunningEnvoi } from '../support/envoi.ts';
import { bearer, call, expectError, expectValidationErrors } from '../api/helpers.ts';
import {
  emailRows,
  fixture,
  LIVE_ID,
  postBulk,
  provisioned,
  SMALL_ID,
  TEAM_EMAIL,
  TRIAL_ID,
  waitForJob,
  type Provisioned,
} from './fixture.ts';

let envoi: RunningEnvoi;
let live: Provisioned;
let trial: Provisioned;
let small: Provisioned;
const FAKE_ID = '99999999-9999-4999-8999-999999999999';

beforeAll(async () => {
  envoi = await startEnvoi({ bootstrap: fixture(), worker: true });
  live = provisioned(envoi, LIVE_ID);
  trial = provisioned(envoi, TRIAL_ID);
  small = provisioned(envoi, SMALL_ID);
});

afterAll(async () => {
  await envoi?.stop();
});

const csvOf = (rows: string[][]) => rows.map((r) => r.join(',')).join('\r\n');
const _bad = (message: string) => ({ status: 400, error: 'BadRequestError', message });

describe('POST /v2/notifications/bulk: the request', () => {
  it('needs exactly one of rows and csv', async () => {
    const base = { name: 'job', template_id: live.templates.email };
    for (const body of [base, { ...base, rows: emailRows(1), csv: csvOf(emailRows(1)) }, { ...base, csv: '' }]) {
      expectError(
        await postBulk(envoi, live.keys.live!, body),
        400,
        'BadRequestError',
        'You should specify either rows or csv',
      );
    }
  });

  it('checks the fields as GC Notify does', async () => {
    const key = live.keys.live!;
    expectValidationErrors(await postBulk(envoi, key, { template_id: live.templates.email, csv: 'foo' }), [
      'name is a required property',
    ]);
    expectValidationErrors(
      await postBulk(envoi, key, {
        name: 'job',
        template_id: live.templates.email,
        rows: emailRows(1),
        reply_to_id: 'foo',
      }),
      ['reply_to_id is not a valid UUID'],
    );
    expectValidationErrors(await postBulk(envoi, key, { name: 'job', template_id: 'nope', csv: 'x' }), [
      'template_id is not a valid UUID',
    ]);
    expectValidationErrors(
      await postBulk(envoi, key, { name: 'job', template_id: live.templates.email, rows: [['email address']] }),
      ['rows [[email address]] is too short'],
    );
    expectValidationErrors(
      await postBulk(envoi, key, { name: 'job', template_id: live.templates.email, csv: 'x', colour: 'red' }),
      ['Additional properties are not allowed (colour was unexpected)'],
    );
    const at = (hours: number) => new Date(Date.now() + hours * 3_600_000).toISOString();
    const cases: Array<[unknown, string]> = [
      [42, 'scheduled_for 42 is not of type string, null'],
      [
        'foo',
        'scheduled_for datetime format is invalid. It must be a valid ISO8601 date time format, https://en.wikipedia.org/wiki/ISO_8601',
      ],
      [at(-1), 'scheduled_for datetime cannot be in the past'],
      [at(97), 'scheduled_for datetime can only be up to 96 hours in the future'],
    ];
    for (const [scheduledFor, message] of cases) {
      const res = await postBulk(envoi, key, {
        name: 'job',
        template_id: live.templates.email,
        scheduled_for: scheduledFor,
        rows: [1, 2],
      });
      expectValidationErrors(res, [message]);
    }
  });

  it('says what is wrong with the template, the permission and the sender', async () => {
    const key = live.keys.live!;
    expectError(
      await postBulk(envoi, key, { name: 'job', template_id: FAKE_ID, rows: [1, 2] }),
      400,
      'BadRequestError',
      'Template not found',
    );
    expectError(
      await postBulk(envoi, key, { name: 'job', template_id: live.templates.archived, rows: [1, 2] }),
      400,
      'BadRequestError',
      `Template ${live.templates.archived} has been deleted`,
    );
    expectError(
      await postBulk(envoi, trial.keys.trial!, { name: 'job', template_id: trial.templates.sms, rows: [1, 2] }),
      400,
      'BadRequestError',
      'Service is not allowed to send text messages',
    );
    expectError(
      await postBulk(envoi, key, {
        name: 'job',
        template_id: live.templates.email,
        rows: emailRows(1),
        reply_to_id: FAKE_ID,
      }),
      400,
      'BadRequestError',
      `email_reply_to_id ${FAKE_ID} does not exist in database for service id ${LIVE_ID}`,
    );
    expectError(
      await postBulk(envoi, key, {
        name: 'job',
        template_id: live.templates.sms,
        rows: [
          ['phone number', 'name'],
          ['6135550123', 'A'],
        ],
        reply_to_id: FAKE_ID,
      }),
      400,
      'BadRequestError',
      `sms_sender_id ${FAKE_ID} does not exist in database for service id ${LIVE_ID}`,
    );
  });
});

describe('POST /v2/notifications/bulk: the list', () => {
  const send = (key: string, template: string, rows: unknown[][], as: 'rows' | 'csv' = 'rows') =>
    postBulk(envoi, key, {
      name: 'job',
      template_id: template,
      ...(as === 'rows' ? { rows } : { csv: csvOf(rows as string[][]) }),
    });

  it('reports missing and duplicate column headers', async () => {
    for (const as of ['rows', 'csv'] as const) {
      const res = await send(live.keys.live!, live.templates.email!, [['foo'], ['bar']], as);
      expectError(res, 400, 'BadRequestError', 'Missing column headers: code, email address, name');
    }
    expectError(
      await send(live.keys.live!, live.templates.plain!, [
        ['email address', 'email_address'],
        ['a@example.com', 'b@example.com'],
      ]),
      400,
      'BadRequestError',
      'Duplicate column headers: email address, email_address',
    );
  });

  it('reports every row with errors, numbered as GC Notify numbers them', async () => {
    const rows = [
      ['email address', 'name', 'code'],
      ['foo@example.com', 'Foo', '1'],
      ['bar@example.com', '', '2'],
      ['nope', 'nope', '3'],
      ['baz@example.com', '', '4'],
      ['baz@example.com', ' ', '5'],
    ];
    for (const as of ['rows', 'csv'] as const) {
      expectError(
        await send(live.keys.live!, live.templates.email!, rows, as),
        400,
        'BadRequestError',
        'Some rows have errors. Row 1 - `name`: Missing. Row 2 - `email address`: invalid recipient. Row 3 - `name`: Missing. Row 4 - `name`: Missing.',
      );
    }
  });

  it('refuses more rows than the service may send in one job', async () => {
    expectError(
      await send(small.keys.small!, small.templates.email!, emailRows(6)),
      400,
      'BadRequestError',
      'Too many rows. Maximum number of rows allowed is 5',
    );
  });

  it('refuses recipients a team key or a service in trial mode may not send to', async () => {
    expectError(
      await send(live.keys.team!, live.templates.plain!, [['email address'], [TEAM_EMAIL], ['stranger@example.com']]),
      400,
      'BadRequestError',
      'You cannot send to these recipients because you used a team and safelist API key.',
    );
    expectError(
      await send(trial.keys.trial!, trial.templates.email!, [
        ['email address', 'name'],
        ['stranger@example.com', 'S'],
      ]),
      400,
      'BadRequestError',
      'You cannot send to these recipients because your service is in trial mode. You can only send to members of your team and your safelist.',
    );
  });

  it('refuses more rows than the daily limit leaves', async () => {
    const rows = [
      ['email address', 'name'],
      ...['trial.member@example.gc.ca', 'guest@example.com', 'trial.member@example.gc.ca', 'guest@example.com'].map(
        (e) => [e, 'N'],
      ),
    ];
    expectError(
      await send(trial.keys.trial!, trial.templates.email!, rows),
      400,
      'BadRequestError',
      "You only have 3 remaining messages before you reach your daily limit. You've tried to send 4 messages.",
    );
  });

  it('refuses a text message list that mixes simulated and real numbers, and messages that are too long', async () => {
    expectError(
      await send(live.keys.live!, live.templates.sms!, [
        ['phone number', 'name'],
        ['6132532222', 'A'],
        ['6135550123', 'B'],
      ]),
      400,
      'BadRequestError',
      'Bulk sending to testing and non-testing numbers is not supported',
    );
    expectError(
      await send(live.keys.live!, live.templates.sms!, [
        ['phone number', 'name'],
        ['6135550123', 'A'],
        ['6135550124', 'x'.repeat(700)],
      ]),
      400,
      'BadRequestError',
      'Content for template has a character count greater than the limit of 612. Notification to 6135550124 on row #2 exceeds the maximum size limit.',
    );
  });

  it('reports every problem at once, GC Notify’s first', async () => {
    const rows = [
      ['email address', 'name'],
      ['stranger@example.com', ''],
      ['guest@example.com', 'G'],
      ['x', 'X'],
      ['guest@example.com', 'G'],
    ];
    const res = await send(trial.keys.trial!, trial.templates.email!, rows);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { message: string }) => e.message)).toEqual([
      "You only have 3 remaining messages before you reach your daily limit. You've tried to send 4 messages.",
      'You cannot send to these recipients because your service is in trial mode. You can only send to members of your team and your safelist.',
      'Some rows have errors. Row 0 - `name`: Missing. Row 2 - `email address`: invalid recipient.',
    ]);
  });

  it('says so when the CSV cannot be read', async () => {
    const res = await postBulk(envoi, live.keys.live!, {
      name: 'job',
      template_id: live.templates.plain,
      csv: 'email address\n"a@example.com\nb@example.com',
    });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].message).toMatch(/^Error converting to CSV: A quoted cell is never closed/);
  });

  it('leaves nothing behind for a list it refuses', async () => {
    const { n } = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM job_files`.execute(envoi.database.db))
      .rows[0]!;
    const jobs = (
      await sql<{ n: number }>`SELECT count(*)::int AS n FROM jobs WHERE service_id = ${TRIAL_ID}`.execute(
        envoi.database.db,
      )
    ).rows[0]!;
    expect({ n, jobs: jobs.n }).toEqual({ n: 0, jobs: 0 });
  });

  it('applies the rate limit of single sends (the small service has 2 a minute: the test above took one), and a body limit that grows with the service’s rows', async () => {
    expect((await send(small.keys.small!, small.templates.email!, emailRows(2))).status).toBe(201);
    expectError(
      await send(small.keys.small!, small.templates.email!, emailRows(2)),
      429,
      'RateLimitError',
      'Exceeded rate limit for key type LIVE of 2 requests per 60 seconds',
    );
    const big = await postBulk(envoi, small.keys.small!, {
      name: 'big',
      template_id: small.templates.email,
      csv: 'x'.repeat(11 * 1024 * 1024),
    });
    expect(big.status).toBe(413);
  });
});

describe('POST /v2/notifications/bulk: the job', () => {
  it('answers 201 with GC Notify’s job, then queues every row at once', async () => {
    const res = await postBulk(envoi, live.keys.live!, {
      name: 'people.csv',
      template_id: live.templates.email,
      rows: emailRows(3),
      reply_to_id: live.replyTo['other-reply@example.gc.ca'],
      reference: 'batch-1',
    });
    expect(res.status).toBe(201);
    const data = res.body.data;
    expect(Object.keys(data).sort()).toEqual(
      [
        'api_key',
        'archived',
        'created_at',
        'created_by',
        'id',
        'job_status',
        'notification_count',
        'original_file_name',
        'processing_finished',
        'processing_started',
        'scheduled_for',
        'sender_id',
        'service',
        'service_name',
        'template',
        'template_type',
        'template_version',
        'updated_at',
      ].sort(),
    );
    expect(data).toMatchObject({
      api_key: { key_type: 'normal', name: 'live' },
      archived: false,
      created_by: { name: 'Envoi' },
      job_status: 'pending',
      notification_count: 3,
      original_file_name: 'people.csv',
      processing_finished: null,
      processing_started: null,
      scheduled_for: null,
      sender_id: live.replyTo['other-reply@example.gc.ca'],
      service: LIVE_ID,
      service_name: { name: 'Bulk live service' },
      template: live.templates.email,
      template_type: 'email',
      template_version: 1,
      updated_at: null,
    });
    expect(data.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);

    const done = await waitForJob(envoi, live.keys.live!, data.id);
    expect(done.job_status).toBe('finished');
    expect(done.processing_started).toMatch(/\+00:00$/);
    expect(done.progress.rows).toBe(3);
    expect(done.progress.not_queued).toBe(0);
    const rows = await envoi.database.db
      .selectFrom('notifications')
      .select([
        'to',
        'subject',
        'body',
        'reply_to_text',
        'client_reference',
        'job_row_number',
        'priority',
        'api_key_id',
      ])
      .where('job_id', '=', data.id)
      .orderBy('job_row_number')
      .execute();
    expect(rows.map((r) => [r.job_row_number, r.to, r.subject, r.body])).toEqual([
      [1, 'person0@example.com', 'Hello Person 0', 'Hello Person 0, your code is C0.'],
      [2, 'person1@example.com', 'Hello Person 1', 'Hello Person 1, your code is C1.'],
      [3, 'person2@example.com', 'Hello Person 2', 'Hello Person 2, your code is C2.'],
    ]);
    expect(rows.every((r) => r.reply_to_text === 'other-reply@example.gc.ca' && r.client_reference === 'batch-1')).toBe(
      true,
    );
    expect(rows.every((r) => r.api_key_id === data.api_key.id && r.priority === 1)).toBe(true);
  });

  it('shows a job’s notifications in GET /v2/notifications only with include_jobs', async () => {
    const res = await postBulk(envoi, live.keys.live!, {
      name: 'listed',
      template_id: live.templates.plain,
      rows: [['email address'], ['listed@example.com']],
    });
    await waitForJob(envoi, live.keys.live!, res.body.data.id);
    const recipients = async (query: string) =>
      (await call(envoi.url, 'GET', `/v2/notifications${query}`, { key: live.keys.live! })).body.notifications.map(
        (n: { email_address: string }) => n.email_address,
      );
    expect(await recipients('')).not.toContain('listed@example.com');
    expect(await recipients('?include_jobs=true')).toContain('listed@example.com');
    expect(await recipients('?include_jobs=True')).toContain('listed@example.com');
  });

  it('drops NUL characters from the cells (a file saved in the wrong encoding has them), so the job still runs', async () => {
    const res = await postBulk(envoi, live.keys.live!, {
      name: 'nul.csv',
      template_id: live.templates.email,
      rows: [
        ['email address', 'name', 'code'],
        ['nul\u0000@example.com', 'A\u0000na', '12\u00003'],
      ],
    });
    expect(res.status).toBe(201);
    expect((await waitForJob(envoi, live.keys.live!, res.body.data.id)).job_status).toBe('finished');
    const all = (await call(envoi.url, 'GET', '/v2/notifications?include_jobs=true', { key: live.keys.live! })).body
      .notifications;
    const row = all.find((n: { email_address: string }) => n.email_address === 'nul@example.com');
    expect(row.body).toBe('Hello Ana, your code is 123.');
  });

  it('follows the rows through delivery in the job’s progress', async () => {
    const res = await postBulk(envoi, live.keys.test!, {
      name: 'outcomes',
      template_id: live.templates.plain,
      rows: [['email address'], ['a@example.com'], ['perm-fail@simulator.notify'], ['b@example.com']],
    });
    const id = res.body.data.id;
    let progress: any;
    for (let i = 0; i < 200; i++) {
      progress = (await call(envoi.url, 'GET', `/v2/notifications/bulk/${id}`, { key: live.keys.test! })).body.data
        .progress;
      if (progress.delivered + progress.failed === 3) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(progress).toEqual({ rows: 3, not_queued: 0, queued: 0, sending: 0, delivered: 2, failed: 1 });
  });

  it('schedules a job, keeps it until it is due, and lets it be cancelled until then', async () => {
    const at = new Date(Date.now() + 3_600_000);
    const res = await postBulk(envoi, live.keys.live!, {
      name: 'later',
      template_id: live.templates.plain,
      rows: [['email address'], ['later@example.com']],
      scheduled_for: at.toISOString(),
    });
    expect(res.status).toBe(201);
    expect(res.body.data.job_status).toBe('scheduled');
    expect(res.body.data.scheduled_for).toBe(at.toISOString().replace('Z', '000+00:00'));
    const id = res.body.data.id;

    // Bring it forward: the worker's job loop picks it up.
    await sql`UPDATE jobs SET next_attempt_at = now() WHERE id = ${id}`.execute(envoi.database.db);
    const done = await waitForJob(envoi, live.keys.live!, id);
    expect(done.job_status).toBe('finished');

    const second = await postBulk(envoi, live.keys.live!, {
      name: 'never',
      template_id: live.templates.plain,
      rows: [['email address'], ['never@example.com']],
      scheduled_for: at.toISOString(),
    });
    const cancelled = await call(envoi.url, 'POST', `/v2/notifications/bulk/${second.body.data.id}/cancel`, {
      key: live.keys.live!,
    });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.data.job_status).toBe('cancelled');
    expectError(
      await call(envoi.url, 'POST', `/v2/notifications/bulk/${id}/cancel`, { key: live.keys.live! }),
      400,
      'BadRequestError',
      'Job cannot be cancelled: it is finished',
    );
    const view = await call(envoi.url, 'GET', `/v2/notifications/bulk/${second.body.data.id}`, {
      key: live.keys.live!,
    });
    expect(view.body.data.progress).toEqual({ rows: 1, not_queued: 1, queued: 0, sending: 0, delivered: 0, failed: 0 });
  });

  it('keeps jobs to their service', async () => {
    const res = await postBulk(envoi, live.keys.live!, {
      name: 'mine',
      template_id: live.templates.plain,
      rows: [['email address'], ['mine@example.com']],
    });
    const id = res.body.data.id;
    expectError(
      await call(envoi.url, 'GET', `/v2/notifications/bulk/${id}`, { key: trial.keys.trial! }),
      404,
      'NoResultFound',
      'No result found',
    );
    expectError(
      await call(envoi.url, 'GET', `/v2/notifications/bulk/${FAKE_ID}`, { key: live.keys.live! }),
      404,
      'NoResultFound',
      'No result found',
    );
    expectValidationErrors(await call(envoi.url, 'GET', '/v2/notifications/bulk/nope', { key: live.keys.live! }), [
      'job_id is not a valid UUID',
    ]);
  });

  it('gives a report of every row, with cells escaped against spreadsheet formulas', async () => {
    const res = await postBulk(envoi, live.keys.live!, {
      name: '=HYPERLINK("http://evil.example","click")',
      template_id: live.templates.sms,
      rows: [
        ['phone number', 'name'],
        ['+16135550123', '@SUM(A1)'],
        ['613-555-0124', 'Plain'],
        ['-6135550125', 'Minus'],
      ],
    });
    expect(res.status).toBe(201);
    await waitForJob(envoi, live.keys.live!, res.body.data.id);
    const report = await fetch(`${envoi.url}/v2/notifications/bulk/${res.body.data.id}/report`, {
      headers: { authorization: bearer(live.keys.live!) },
    });
    expect(report.status).toBe(200);
    expect(report.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(await report.arrayBuffer());
    expect(text.startsWith('\uFEFFRow number,Recipient,Template,Type,Job,Status,Time\r\n')).toBe(true);
    const lines = text.slice(1).trim().split('\r\n').slice(1);
    expect(lines).toHaveLength(3);
    const job = `"'=HYPERLINK(""http://evil.example"",""click"")"`;
    expect(lines[0]).toMatch(
      new RegExp(`^1,'\\+16135550123,Hello sms,Text message,${escapeRegExp(job)},(created|delivered),`),
    );
    expect(lines[1]).toMatch(/^2,613-555-0124,Hello sms,/);
    expect(lines[2]).toMatch(/^3,'-6135550125,Hello sms,/);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
