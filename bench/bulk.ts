/**
 * Bulk job benchmark (DESIGN.md §4) on real PostgreSQL:
 *
 *   1. a 100,000-row CSV sent to `POST /v2/notifications/bulk` (Envoi in this process, the API starting the job
 *      itself), timed from the request to the job `finished` with every row a committed notification; against a
 *      plain `COPY` of the same rows (already rendered) into a table like `notifications`, in the same run;
 *   2. a 1,000,000-row CSV file run through the job engine as `envoi send-bulk` does (check and store, then
 *      queue), in a child process whose peak RSS is read at the end.
 *
 *   node --import tsx bench/bulk.ts [--rows 100000] [--big-rows 1000000] [--skip-big] [--quiet-wait 120]
 *
 * A fresh database `envoi_bulk_<pid>` is created on postgres://postgres@127.0.0.1:5432 (trust auth) and dropped at
 * the end. Exits 0 once it has measured, whatever the verdicts; figures also go to bench/results/bulk.json.
 */
import { sleep, waitForQuiet } from './machine.ts';
import { openBenchDatabase, provisionBenchService } from './fixture.ts';
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { sql } from 'kysely';
import { loadConfig } from '../src/platform/config.ts';
import { openDatabase, type DbHandle } from '../src/platform/database/connection.ts';
import { createApp, createServices } from '../src/app.ts';
import { signToken } from '../src/notify/api/v2/jwt.ts';
import { parseApiKeyString } from '../src/notify/settings/api-keys.ts';

const BUDGET = { seconds100k: 5, peakRssMb: 300 } as const;
const SECRET_KEY = 'bench-secret-key-that-is-long-enough-0123456789';
const RESULTS = fileURLToPath(new URL('./results/bulk.json', import.meta.url));
const SELF = fileURLToPath(import.meta.url);

function csvRow(i: number): string {
  return `person${i}@example.gc.ca,Person ${i},A-${String(i).padStart(7, '0')}\n`;
}
const HEADER = 'email address,name,reference\n';

const seconds = (ms: number) => Math.round(ms) / 1000;

// ---------------------------------------------------------------------------------------------------------------

interface Options {
  rows: number;
  bigRows: number;
  skipBig: boolean;
  /** Seconds to wait for a quiet machine before each measurement. */
  quietWait: number;
}

function readOptions(argv: string[]): Options {
  const opts: Options = { rows: 100_000, bigRows: 1_000_000, skipBig: false, quietWait: 120 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--skip-big') opts.skipBig = true;
    else if (arg === '--rows') opts.rows = Number(argv[++i]);
    else if (arg === '--big-rows') opts.bigRows = Number(argv[++i]);
    else if (arg === '--quiet-wait') opts.quietWait = Number(argv[++i]);
    else throw new Error(`unknown option ${arg} (known: --rows N, --big-rows N, --skip-big, --quiet-wait SECONDS)`);
  }
  if (!Number.isInteger(opts.rows) || opts.rows < 1 || !Number.isInteger(opts.bigRows) || opts.bigRows < 1) {
    throw new Error('--rows and --big-rows take a whole number ≥ 1');
  }
  return opts;
}

// ---------------------------------------------------------------------------------------------------------------
// 1. 100,000 rows through the API, and the COPY baseline

async function waitFinished(db: DbHandle, jobId: string): Promise<void> {
  for (;;) {
    const row = await db.db.selectFrom('jobs').select('job_status').where('id', '=', jobId).executeTakeFirstOrThrow();
    if (row.job_status === 'finished') return;
    await sleep(5);
  }
}

async function postBulk(url: string, key: string, body: string): Promise<string> {
  const { serviceId, secret } = parseApiKeyString(key)!;
  const res = await fetch(`${url}/v2/notifications/bulk`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${signToken(serviceId, secret)}` },
    body,
  });
  const json = (await res.json()) as { data?: { id: string }; errors?: unknown };
  if (res.status !== 201) throw new Error(`bulk request failed: ${res.status} ${JSON.stringify(json)}`);
  return json.data!.id;
}

async function apiRun(
  url: string,
  db: DbHandle,
  ids: { templateId: string; key: string },
  rows: number,
): Promise<{ ms: number; jobId: string }> {
  let csv = HEADER;
  for (let i = 0; i < rows; i++) csv += csvRow(i);
  const body = JSON.stringify({ name: `bench-${rows}.csv`, template_id: ids.templateId, csv });
  const started = performance.now();
  const jobId = await postBulk(url, ids.key, body);
  await waitFinished(db, jobId);
  const elapsed = performance.now() - started;
  const { n } = (
    await sql<{ n: number }>`SELECT count(*)::int AS n FROM notifications WHERE job_id = ${jobId}`.execute(db.db)
  ).rows[0]!;
  if (n !== rows) throw new Error(`job ${jobId} has ${n} notifications, expected ${rows}`);
  return { ms: elapsed, jobId };
}

/**
 * The baseline: the very rows the job made (read back with COPY … TO, untimed), loaded with one plain COPY into a
 * table with the columns and indexes of `notifications`.
 */
async function copyBaseline(dbUrl: string, jobId: string): Promise<number> {
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  try {
    const chunks: Buffer[] = [];
    const out = client.query(copyTo(`COPY (SELECT * FROM notifications WHERE job_id = '${jobId}') TO STDOUT`));
    for await (const chunk of out) chunks.push(chunk as Buffer);
    await client.query('DROP TABLE IF EXISTS copy_baseline');
    await client.query('CREATE TABLE copy_baseline (LIKE notifications INCLUDING ALL)');
    const started = performance.now();
    await client.query('BEGIN');
    await pipeline(Readable.from(chunks), client.query(copyFrom('COPY copy_baseline FROM STDIN')));
    await client.query('COMMIT');
    const elapsed = performance.now() - started;
    await client.query('DROP TABLE copy_baseline');
    return elapsed;
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 2. 1,000,000 rows from a file, in a child process (its peak RSS is the figure)

interface BigResult {
  rows: number;
  checkSeconds: number;
  queueSeconds: number;
  peakRssMb: number;
  fileMb: number;
}

async function writeBigFile(file: string, rows: number): Promise<void> {
  const out = createWriteStream(file);
  out.write(HEADER);
  for (let i = 0; i < rows; i += 10_000) {
    let text = '';
    for (let j = i; j < Math.min(rows, i + 10_000); j++) text += csvRow(j);
    if (!out.write(text)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function bigRun(dbUrl: string, serviceId: string, templateId: string, rows: number): Promise<BigResult> {
  const dir = path.join(tmpdir(), `envoi-bulk-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `big-${rows}.csv`);
  try {
    await writeBigFile(file, rows);
    const child = spawn(process.execPath, ['--import', 'tsx', SELF, '--child', dbUrl, serviceId, templateId, file], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    const [code] = (await once(child, 'exit')) as [number];
    if (code !== 0) throw new Error(`the 1,000,000-row child exited with ${code}:\n${out}`);
    return JSON.parse(out.trim().split('\n').at(-1)!) as BigResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** In the child: the engine as `envoi send-bulk` runs it on PostgreSQL. */
async function child(dbUrl: string, serviceId: string, templateId: string, file: string): Promise<void> {
  const config = loadConfig({ DATABASE_URL: dbUrl, ENVOI_SECRET_KEY: SECRET_KEY, LOG_LEVEL: 'silent' });
  const database = await openDatabase({ databaseUrl: dbUrl, poolSize: 4 });
  const services = createServices(config, database, SECRET_KEY);
  const service = (await services.directory.service(serviceId))!;
  const started = performance.now();
  const { job } = await services.jobs.create(
    { service, keyId: null, keyType: 'normal' },
    {
      templateId,
      name: path.basename(file),
      source: createReadStream(file),
      format: 'csv',
      scheduledFor: null,
      replyToId: null,
      reference: null,
    },
  );
  const checked = performance.now();
  if (!(await services.jobs.processNext({ jobId: job.id }))) throw new Error('the job could not be claimed');
  const queued = performance.now();
  const { n } = (
    await sql<{ n: number }>`SELECT count(*)::int AS n FROM notifications WHERE job_id = ${job.id}`.execute(database.db)
  ).rows[0]!;
  await database.close();
  const { size } = await import('node:fs').then((fs) => fs.statSync(file));
  const result: BigResult = {
    rows: n,
    checkSeconds: seconds(checked - started),
    queueSeconds: seconds(queued - checked),
    // maxRSS is in kilobytes.
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    fileMb: Math.round(size / 1e5) / 10,
  };
  console.log(JSON.stringify(result));
}

// ---------------------------------------------------------------------------------------------------------------

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--child') return child(argv[1]!, argv[2]!, argv[3]!, argv[4]!);
  const opts = readOptions(argv);
  const bench = await openBenchDatabase({}, 'bulk', 20);
  const database = bench.handle;
  const dbUrl = bench.url;
  const results: Record<string, unknown> = { date: new Date().toISOString(), rows: opts.rows };
  try {
    const ids = await provisionBenchService(database, SECRET_KEY, { maxRows: 1_000_000 });
    const config = loadConfig({
      DATABASE_URL: dbUrl,
      ENVOI_SECRET_KEY: SECRET_KEY,
      LOG_LEVEL: 'silent',
      HOST: '127.0.0.1',
    });
    const services = createServices(config, database, SECRET_KEY);
    const app = await createApp(services);
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      await apiRun(url, database, ids, 2_000); // warm-up: JIT, caches, connections
      const quiet = await waitForQuiet(opts.quietWait);
      if (quiet.otherCores >= 0.3)
        console.log(`(other processes were using ${quiet.otherCores} cores: figures are low)`);
      results.otherCores = quiet.otherCores;
      const { ms: apiMs, jobId } = await apiRun(url, database, ids, opts.rows);
      const copyMs = await copyBaseline(dbUrl, jobId);
      const ratio = apiMs / copyMs;
      const pass = apiMs <= BUDGET.seconds100k * 1000;
      Object.assign(results, {
        apiSeconds: seconds(apiMs),
        copySeconds: seconds(copyMs),
        ratio: Math.round(ratio * 10) / 10,
        pass100k: pass,
      });
      console.log(
        `${opts.rows.toLocaleString('en')} rows, request → all queued: ${seconds(apiMs)} s (budget ≤ ${BUDGET.seconds100k} s) ${pass ? 'PASS' : 'FAIL'}`,
      );
      console.log(`  plain COPY of the same rows: ${seconds(copyMs)} s; Envoi / COPY = ${ratio.toFixed(1)}×`);
    } finally {
      await services.jobs.idle();
      await app.close();
    }
    if (!opts.skipBig) {
      await waitForQuiet(opts.quietWait);
      const big = await bigRun(dbUrl, ids.serviceId, ids.templateId, opts.bigRows);
      const pass = big.peakRssMb < BUDGET.peakRssMb && big.rows === opts.bigRows;
      Object.assign(results, { big, passBig: pass });
      console.log(
        `${opts.bigRows.toLocaleString('en')} rows (${big.fileMb} MB file): checked and stored ${big.checkSeconds} s, queued ${big.queueSeconds} s, ` +
          `peak RSS ${big.peakRssMb} MB (budget < ${BUDGET.peakRssMb} MB) ${pass ? 'PASS' : 'FAIL'}`,
      );
    }
  } finally {
    await bench.dispose();
  }
  mkdirSync(path.dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
