/**
 * The `envoi` command as an operator uses it: start a real server process, provision it with the example file
 * (through the server, since it holds the embedded database), send with the official client, read the outbox,
 * and run the same commands again on PostgreSQL directly when DATABASE_URL is set.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { NotifyClient } from 'notifications-node-client';
import { createSandbox, ENVOI_BIN, type EnvoiSandbox } from '../support/envoi-process.ts';

const run = promisify(execFile);
const ENVOI = ENVOI_BIN;
const EXAMPLE = path.resolve(import.meta.dirname, '../../examples/bootstrap.json');

let sandbox: EnvoiSandbox;
let dataDir: string;
let server: ChildProcess;
let baseUrl: string;

/** `envoi ...args`, rejecting (with code and stderr) when it exits non-zero, like execFile. */
async function envoi(...args: string[]) {
  const outcome = await sandbox.envoi(...args);
  if (outcome.code !== 0) throw Object.assign(new Error(outcome.stderr), outcome);
  return outcome;
}

beforeAll(async () => {
  sandbox = await createSandbox('envoi-cli');
  dataDir = sandbox.dir;
  ({ child: server, url: baseUrl } = await sandbox.start());
});

afterAll(() => sandbox.cleanup());

describe('envoi CLI', () => {
  let provisioned: { services: { id: string; templates: Record<string, string>; api_keys: Record<string, string> }[] };

  it('bootstraps the example file while the server runs, and a second run changes nothing', async () => {
    const first = await envoi('bootstrap', EXAMPLE);
    provisioned = JSON.parse(first.stdout);
    const service = provisioned.services[0]!;
    expect(service.id).toBe('6b0c2f7e-3f1a-4a7e-9c1d-2b8e5a4f9d10');
    expect(Object.keys(service.templates)).toEqual(['welcome', 'code']);
    expect(service.api_keys.live).toMatch(new RegExp(`^live-${service.id}-[0-9a-f-]{36}$`));
    const second = await envoi('bootstrap', EXAMPLE);
    expect(JSON.parse(second.stdout)).toEqual(provisioned);
  });

  it('sends with the official client; the message shows in `envoi outbox` and the API says delivered', async () => {
    const service = provisioned.services[0]!;
    const client = new NotifyClient(baseUrl, service.api_keys.live!);
    const sent = await client.sendEmail(service.templates.welcome!, 'alex.tremblay@example.gc.ca', {
      personalisation: { 'first name': 'Alex', 'reference number': 'A-1234', 'has documents': 'yes' },
    });
    expect(sent.status).toBe(201);
    let status = '';
    for (let i = 0; i < 200 && status !== 'delivered'; i++) {
      status = (await client.getNotificationById(sent.data.id)).data.status;
      if (status !== 'delivered') await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe('delivered');
    const { stdout } = await envoi('outbox', '--limit', '1');
    expect(stdout).toContain('email to alex.tremblay@example.gc.ca');
    expect(stdout).toContain('Subject: Welcome, Alex');
    expect(stdout).toContain('Your application A-1234 has been received.');
    const json = JSON.parse((await envoi('outbox', '--limit', '1', '--json')).stdout);
    expect(json[0].notificationId).toBe(sent.data.id);
  });

  it('reports a bootstrap file with mistakes, every problem at once, and changes nothing', async () => {
    const bad = path.join(dataDir, 'bad.json');
    await writeFile(
      bad,
      JSON.stringify({
        services: [
          {
            name: 'Broken',
            team: [{ name: 'X', email: 'not-an-email' }],
            templates: [{ key: 't', type: 'email', versions: [{ name: 'T', content: 'no subject' }] }],
          },
        ],
      }),
    );
    const failure = await envoi('bootstrap', bad).then(
      () => null,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toContain('/services/0/team/0/email: Not a valid email address');
    expect(failure?.stderr).toContain('/services/0/templates/0/versions/0: an email template needs a subject');
    const notJson = path.join(dataDir, 'not-json.json');
    await writeFile(notJson, '{ nope');
    const parseFailure = await envoi('bootstrap', notJson).catch((err: { stderr: string }) => err);
    expect(parseFailure.stderr).toContain('is not valid JSON');
  });

  it.skipIf(process.env.DATABASE_URL)(
    'refuses a second server on the same embedded data folder with a clear message',
    async () => {
      const failure = await envoi('start').catch((err: { code: number; stderr: string }) => err);
      expect((failure as { code: number }).code).toBe(2);
      expect((failure as { stderr: string }).stderr).toMatch(/is in use by Envoi \(pid \d+/);
    },
  );

  it.runIf(process.env.DATABASE_URL)(
    'runs a second server beside the first on PostgreSQL, on the same data',
    async () => {
      const { url } = await sandbox.start();
      const service = provisioned.services[0]!;
      const sent = await new NotifyClient(url, service.api_keys.live!).getNotifications();
      expect(url).not.toBe(baseUrl);
      expect(sent.data.notifications.length).toBeGreaterThan(0);
    },
  );

  it('stops cleanly on SIGTERM and removes its hand-off file, after which commands open the database directly', async () => {
    server.kill('SIGTERM');
    const code = await new Promise((resolve) => server.once('exit', resolve));
    expect(code).toBe(0);
    expect(existsSync(path.join(dataDir, 'data', 'server.json'))).toBe(false);
    const { stdout } = await envoi('outbox', '--limit', '1');
    expect(stdout).toContain('email to alex.tremblay@example.gc.ca');
    const again = JSON.parse((await envoi('bootstrap', EXAMPLE)).stdout);
    expect(again).toEqual(provisioned);
    if (!process.env.DATABASE_URL) {
      expect((await readFile(path.join(dataDir, 'data', 'secret.key'), 'utf8')).trim().length).toBeGreaterThanOrEqual(
        32,
      );
    }
  });
});

describe('configuration errors', () => {
  it('names the variable and the problem, and exits with status 2', async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ PORT: 'eighty' }, /PORT must be a whole number from 0 to 65535, got "eighty"/],
      [{ EMAIL_PROVIDER: 'pigeon' }, /EMAIL_PROVIDER must be a comma-separated list of sink, smtp, ses, got "pigeon"/],
      [{ EMAIL_PROVIDER: 'smtp' }, /EMAIL_PROVIDER=smtp needs SMTP_URL/],
      [{ DATABASE_URL: 'postgres://u:hunter2@localhost/db' }, /ENVOI_SECRET_KEY is required with DATABASE_URL/],
      [
        { DATABASE_URL: 'mysql://u:hunter2@localhost/db' },
        /DATABASE_URL must start with postgres:\/\/ or postgresql:\/\/, got "mysql:\/\/u:\*\*\*@localhost\/db"/,
      ],
    ];
    for (const [extra, message] of cases) {
      const childEnv: NodeJS.ProcessEnv = {
        ...process.env,
        ENVOI_DATA_DIR: path.join(tmpdir(), 'envoi-never-created'),
      };
      delete childEnv.DATABASE_URL;
      delete childEnv.ENVOI_SECRET_KEY;
      const failure = await run(process.execPath, [ENVOI, 'migrate'], { env: { ...childEnv, ...extra } }).catch(
        (err: { code: number; stderr: string }) => err,
      );
      expect((failure as { code: number }).code, JSON.stringify(extra)).toBe(2);
      expect((failure as { stderr: string }).stderr).toMatch(message);
      expect((failure as { stderr: string }).stderr).not.toContain('hunter2');
    }
  });
});
