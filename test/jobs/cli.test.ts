/**
 * `envoi send-bulk` as an operator runs it: against a running server (on the embedded database the file is
 * streamed to it through the command bridge) and directly (PostgreSQL, or the embedded database once the server
 * has stopped). Output is not a terminal here, so progress comes as one plain line per stage.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import ExcelJS from 'exceljs';
import { TEST_SECRET_KEY } from '../support/envoi.ts';
import { call } from '../api/helpers.ts';
import { fixture, LIVE_ID } from './fixture.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const ENVOI = path.join(ROOT, 'bin/envoi.js');

let dir: string;
let env: NodeJS.ProcessEnv;
let server: ChildProcess;
let baseUrl: string;
let dbName: string | null = null;
let templateId: string;
let liveKey: string;

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function envoi(...args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, [ENVOI, ...args], { env, cwd: dir });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const sendBulk = (...args: string[]) => envoi('send-bulk', '--service', LIVE_ID, '--template', templateId, ...args);

async function waitForServer(child: ChildProcess): Promise<string> {
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/[^\s"]+)/.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`envoi start exited with ${code}:\n${output}`)));
  });
}

async function writeList(name: string, emails: string[]): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, ['email address,name,code', ...emails.map((e, i) => `${e},Person ${i},C${i}`)].join('\n') + '\n');
  return file;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'envoi-send-bulk-'));
  env = { ...process.env, PORT: '0', LOG_LEVEL: 'warn', ENVOI_DATA_DIR: path.join(dir, 'data'), WORKER_POLL_MS: '20', JOB_POLL_MS: '100' };
  if (process.env.DATABASE_URL) {
    dbName = `envoi_send_bulk_${process.pid}`;
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = `/${dbName}`;
    env.DATABASE_URL = url.toString();
    env.ENVOI_SECRET_KEY = TEST_SECRET_KEY;
  } else {
    delete env.DATABASE_URL;
    delete env.ENVOI_SECRET_KEY;
  }
  server = spawn(process.execPath, [ENVOI, 'start'], { env: { ...env, LOG_LEVEL: 'info' }, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  baseUrl = await waitForServer(server);
  const bootstrapFile = path.join(dir, 'bootstrap.json');
  await writeFile(bootstrapFile, JSON.stringify(fixture()));
  const provisioned = JSON.parse((await envoi('bootstrap', bootstrapFile)).stdout);
  const service = provisioned.services.find((s: { id: string }) => s.id === LIVE_ID);
  templateId = service.templates.email;
  liveKey = service.api_keys.live;
});

afterAll(async () => {
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
  }
  await rm(dir, { recursive: true, force: true });
  if (dbName) {
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  }
});

describe('envoi send-bulk', () => {
  it('sends a CSV file: a line per stage on stderr, the job and its counts on stdout', async () => {
    const file = await writeList('people.csv', ['ann@example.com', 'bob@example.com', 'ann@example.com']);
    const { code, stdout, stderr } = await sendBulk('--name', 'People', file);
    expect(code).toBe(0);
    const jobId = /^job ([0-9a-f-]{36}): 3 rows, finished$/m.exec(stdout)?.[1];
    expect(jobId, stdout).toBeDefined();
    expect(stdout).toMatch(/^queued \d, sending \d, delivered \d, failed 0$/m);
    expect(stderr).toContain('checking people.csv (0.0 MB)');
    expect(stderr).toContain(`checked 3 rows; job ${jobId} pending`);
    expect(stderr).toContain('warning: 1 recipient appears more than once in the list');
    expect(stderr).toContain('queueing 3 rows');
    const job = await call(baseUrl, 'GET', `/v2/notifications/bulk/${jobId}`, { key: liveKey });
    expect(job.body.data).toMatchObject({ original_file_name: 'People', job_status: 'finished', notification_count: 3, api_key: null });
    expect(job.body.data.progress.not_queued).toBe(0);
  });

  it('sends an Excel workbook', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('List');
    sheet.addRow(['email address', 'name', 'code']);
    sheet.addRow(['xl@example.com', 'Excel', 7]);
    const file = path.join(dir, 'list.xlsx');
    await workbook.xlsx.writeFile(file);
    const { code, stdout } = await sendBulk(file);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^job [0-9a-f-]{36}: 1 rows, finished$/m);
  });

  it('shows the validation report and exits with status 2, sending nothing', async () => {
    const file = await writeList('broken.csv', ['not-an-address', 'ok@example.com']);
    const { code, stdout, stderr } = await sendBulk(file);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(`envoi: ${file} cannot be sent:`);
    expect(stderr).toContain('Row 1, column "email address": Not a valid email address');
  });

  it('schedules a job', async () => {
    const at = new Date(Date.now() + 3_600_000);
    const file = await writeList('later.csv', ['later@example.com']);
    const { code, stdout } = await sendBulk('--schedule', at.toISOString(), file);
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^job [0-9a-f-]{36}: 1 rows, scheduled for ${at.toISOString().replace(/\./g, '\\.')}$`, 'm'));
  });

  it('explains a mistake in the command', async () => {
    expect((await envoi('send-bulk', '--service', LIVE_ID, path.join(dir, 'people.csv'))).stderr).toContain('usage: envoi send-bulk');
    const pdf = path.join(dir, 'list.pdf');
    await writeFile(pdf, 'x');
    const wrongKind = await sendBulk(pdf);
    expect(wrongKind.code).toBe(2);
    expect(wrongKind.stderr).toContain('its name must end in .csv, .tsv, .txt or .xlsx');
    const unknown = await envoi('send-bulk', '--service', '77777777-7777-4777-8777-777777777777', '--template', templateId, path.join(dir, 'people.csv'));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('There is no service with id 77777777-7777-4777-8777-777777777777.');
    const badTemplate = await envoi('send-bulk', '--service', LIVE_ID, '--template', '77777777-7777-4777-8777-777777777777', path.join(dir, 'people.csv'));
    expect(badTemplate.code).toBe(2);
    expect(badTemplate.stderr).toContain('Template not found');
  });

  it('works on the database directly once the server has stopped', async () => {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    const file = await writeList('direct.csv', ['direct@example.com', 'other@example.com']);
    const { code, stdout } = await sendBulk(file);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^job [0-9a-f-]{36}: 2 rows, finished$/m);
    expect(stdout).toMatch(/^queued 2, sending 0, delivered 0, failed 0$/m);
  });
});
