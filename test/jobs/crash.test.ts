/**
 * A process killed in the middle of inserting a job's rows (SIGKILL: no clean-up of any kind) leaves no row
 * behind; once its lease has run out the job is claimed again and every row is inserted exactly once.
 * On PGlite the database lives in a data folder that the child opens after the parent has closed it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { loadConfig } from '../../src/platform/config.ts';
import { openDatabase, type DbHandle } from '../../src/platform/database/connection.ts';
import { migrate } from '../../src/platform/database/migrate.ts';
import { MIGRATIONS } from '../../src/migrations.ts';
import { createServices } from '../../src/app.ts';
import { applyBootstrap } from '../../src/notify/provisioning/apply-bootstrap.ts';
import { checkBootstrapFile } from '../../src/notify/provisioning/bootstrap-file.ts';
import { SecretBox } from '../../src/platform/secret-box.ts';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';
import { TEST_SECRET_KEY } from '../support/envoi.ts';
import { fixture, LIVE_ID } from './fixture.ts';

const ROWS = 5_000; // three batches: the child is killed after the first
const CHILD = path.join(import.meta.dirname, 'crash-child.ts');

let dataDir: string | null = null;
let testDb: TestDatabase | null = null;

beforeAll(async () => {
  if (process.env.DATABASE_URL) testDb = await openTestDatabase();
  else dataDir = await mkdtemp(path.join(tmpdir(), 'envoi-crash-'));
});

afterAll(async () => {
  await testDb?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** The test database on PostgreSQL (closed by afterAll); a fresh handle on the PGlite folder. */
async function open(): Promise<DbHandle> {
  if (testDb) return testDb;
  const handle = await openDatabase({ databaseUrl: null, dataDir: dataDir! });
  await migrate(handle, MIGRATIONS);
  return handle;
}

function services(database: DbHandle) {
  const config = loadConfig({
    ENVOI_SECRET_KEY: TEST_SECRET_KEY,
    JOB_LEASE_SECONDS: '1',
    LOG_LEVEL: 'silent',
    ...(testDb ? { DATABASE_URL: testDb.url! } : {}),
  });
  return createServices(config, database, TEST_SECRET_KEY);
}

/** Runs the child until it says it is inserting, then kills it with SIGKILL. */
async function killMidInsert(jobId: string): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, testDb ? testDb.url! : dataDir!, jobId], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('inserting')) {
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('exit', () => reject(new Error(`the child exited before it was killed:\n${output}`)));
  });
  await new Promise((resolve) => child.once('exit', resolve));
  expect(child.signalCode).toBe('SIGKILL');
}

it('neither loses nor duplicates rows when the processor is killed mid-insert', async () => {
  // Provision and create the job, then let go of the database (PGlite admits one process per folder).
  let database = await open();
  const file = fixture();
  const provisioned = await applyBootstrap(
    database.db,
    new SecretBox(TEST_SECRET_KEY),
    checkBootstrapFile(file, 'CA'),
    {
      phoneRegion: 'CA',
      emailDomain: 'notification.localhost',
    },
  );
  const templateId = provisioned.services[0]!.templates.plain!;
  let jobs = services(database).jobs;
  const service = (await services(database).directory.service(LIVE_ID))!;
  let text = 'email address\n';
  for (let i = 1; i <= ROWS; i++) text += `crash${i}@example.com\n`;
  const { job } = await jobs.create(
    { service, keyId: null, keyType: 'normal' },
    {
      templateId,
      name: 'crash.csv',
      source: [text],
      format: 'csv',
      scheduledFor: null,
      replyToId: null,
      reference: null,
    },
  );
  if (dataDir) await database.close();

  await killMidInsert(job.id);

  if (dataDir) database = await open();
  const count = async () =>
    (
      await sql<{ n: number; distinct_rows: number; first: number | null; last: number | null }>`
      SELECT count(*)::int AS n, count(DISTINCT job_row_number)::int AS distinct_rows,
             min(job_row_number) AS first, max(job_row_number) AS last
      FROM notifications WHERE job_id = ${job.id}`.execute(database.db)
    ).rows[0]!;
  expect(await count()).toEqual({ n: 0, distinct_rows: 0, first: null, last: null });
  const stuck = await database.db
    .selectFrom('jobs')
    .select(['job_status', 'attempts'])
    .where('id', '=', job.id)
    .executeTakeFirstOrThrow();
  expect(stuck).toEqual({ job_status: 'in progress', attempts: 1 });

  // Its lease (1 s) runs out; the job is claimed again and run to the end.
  jobs = services(database).jobs;
  let processed = false;
  for (let i = 0; i < 100 && !processed; i++) {
    processed = await jobs.processNext({ jobId: job.id });
    if (!processed) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(processed).toBe(true);
  expect(await count()).toEqual({ n: ROWS, distinct_rows: ROWS, first: 1, last: ROWS });
  const done = await database.db
    .selectFrom('jobs')
    .select(['job_status', 'attempts'])
    .where('id', '=', job.id)
    .executeTakeFirstOrThrow();
  expect(done).toEqual({ job_status: 'finished', attempts: 2 });
  // Nothing more to claim: a second pass cannot add a copy.
  expect(await jobs.processNext({ jobId: job.id })).toBe(false);
  expect((await count()).n).toBe(ROWS);
  if (dataDir) await database.close();
});
