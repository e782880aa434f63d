/**
 * `envoi send-bulk` as an operator runs it: against a running server (on the embedded database the file is
 * streamed to it through the command bridge) and directly (PostgreSQL, or the embedded database once the server
 * has stopped). Output is not a terminal here, so progress comes as one plain line per stage.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { call } from '../api/helpers.ts';
import { createSandbox, type EnvoiSandbox } from '../support/envoi-process.ts';
import { fixture, LIVE_ID } from './fixture.ts';

let sandbox: EnvoiSandbox;
let dir: string;
let server: ChildProcess;
let baseUrl: string;
let templateId: string;
let liveKey: string;

const envoi = (...args: string[]) => sandbox.envoi(...args);
const sendBulk = (...args: string[]) => envoi('send-bulk', '--service', LIVE_ID, '--template', templateId, ...args);

async function writeList(name: string, emails: string[]): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(
    file,
    `${['email address,name,code', ...emails.map((e, i) => `${e},Person ${i},C${i}`)].join('\n')}\n`,
  );
  return file;
}

beforeAll(async () => {
  sandbox = await createSandbox('envoi-send-bulk', { LOG_LEVEL: 'warn', JOB_POLL_MS: '100' });
  dir = sandbox.dir;
  ({ child: server, url: baseUrl } = await sandbox.start({ LOG_LEVEL: 'info' }));
  const bootstrapFile = path.join(dir, 'bootstrap.json');
  await writeFile(bootstrapFile, JSON.stringify(fixture()));
  const provisioned = JSON.parse((await envoi('bootstrap', bootstrapFile)).stdout);
  const service = provisioned.services.find((s: { id: string }) => s.id === LIVE_ID);
  templateId = service.templates.email;
  liveKey = service.api_keys.live;
});

afterAll(() => sandbox.cleanup());

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
    expect(job.body.data).toMatchObject({
      original_file_name: 'People',
      job_status: 'finished',
      notification_count: 3,
      api_key: null,
    });
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
    expect(stdout).toMatch(
      new RegExp(`^job [0-9a-f-]{36}: 1 rows, scheduled for ${at.toISOString().replace(/\./g, '\\.')}$`, 'm'),
    );
  });

  it('explains a mistake in the command', async () => {
    expect((await envoi('send-bulk', '--service', LIVE_ID, path.join(dir, 'people.csv'))).stderr).toContain(
      'usage: envoi send-bulk',
    );
    const pdf = path.join(dir, 'list.pdf');
    await writeFile(pdf, 'x');
    const wrongKind = await sendBulk(pdf);
    expect(wrongKind.code).toBe(2);
    expect(wrongKind.stderr).toContain('its name must end in .csv, .tsv, .txt or .xlsx');
    const unknown = await envoi(
      'send-bulk',
      '--service',
      '77777777-7777-4777-8777-777777777777',
      '--template',
      templateId,
      path.join(dir, 'people.csv'),
    );
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('There is no service with id 77777777-7777-4777-8777-777777777777.');
    const badTemplate = await envoi(
      'send-bulk',
      '--service',
      LIVE_ID,
      '--template',
      '77777777-7777-4777-8777-777777777777',
      path.join(dir, 'people.csv'),
    );
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
