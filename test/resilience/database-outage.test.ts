/**
 * PostgreSQL restarts (`pg_ctl restart -m fast`), crashes (SIGKILL of the postmaster) and drops off the network
 * (a proxy that stops forwarding) while clients keep sending: every Envoi process stays up with no supervisor,
 * answers 503 in Notify's format with a Retry-After meanwhile, /_status says 503 without the error's text, 201s
 * resume once the database is back, and every acknowledged 201 is stored. With the API and the worker as separate
 * processes, the worker delivers everything afterwards; SIGTERM stops a role cleanly, or within its bound.
 *
 * Needs the PostgreSQL server binaries for a cluster of its own (test/support/postgres-cluster.ts); runs in the
 * PostgreSQL pass (DATABASE_URL set), skipped otherwise.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { ENVOI_BIN } from '../support/envoi-process.ts';
import { TEST_SECRET_KEY } from '../support/envoi.ts';
import {
  postgresBinDir,
  startFreezableProxy,
  startPostgresCluster,
  type FreezableProxy,
  type PostgresCluster,
} from '../support/postgres-cluster.ts';
import { bearer } from '../api/helpers.ts';

const run = promisify(execFile);
const SERVICE_ID = '44444444-4444-4444-8444-444444444444';
const SENDERS = 12;

describe.skipIf(!process.env.DATABASE_URL || !postgresBinDir())('a PostgreSQL outage under load', () => {
  let cluster: PostgresCluster;
  let proxy: FreezableProxy;
  let dir: string;
  const children = new Set<ChildProcess>();

  beforeAll(async () => {
    cluster = await startPostgresCluster();
    proxy = await startFreezableProxy(cluster.url);
    dir = await mkdtemp(path.join(tmpdir(), 'envoi-outage-'));
  }, 60_000);

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await proxy?.close();
    await cluster?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A fresh database on the cluster, reached through the proxy, with a service provisioned by `envoi bootstrap`. */
  async function prepare(name: string) {
    await onCluster(cluster.url, `CREATE DATABASE ${name}`);
    const direct = withDatabase(cluster.url, name);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: withDatabase(proxy.url, name),
      ENVOI_SECRET_KEY: TEST_SECRET_KEY,
      ENVOI_DATA_DIR: path.join(dir, name),
      PORT: '0',
      LOG_LEVEL: 'info',
      WORKER_POLL_MS: '20',
      // A claim whose answer the outage swallowed holds its rows until the lease ends.
      WORKER_LEASE_SECONDS: '5',
    };
    const file = path.join(dir, `${name}.json`);
    await writeFile(file, JSON.stringify(bootstrapFile()));
    const { stdout } = await run(process.execPath, [ENVOI_BIN, 'bootstrap', file], { env });
    const service = JSON.parse(stdout).services[0];
    return { env, direct, key: service.api_keys.live as string, templateId: service.templates.email as string };
  }

  function spawnEnvoi(role: 'start' | 'api' | 'worker', env: NodeJS.ProcessEnv, more: NodeJS.ProcessEnv = {}): Role {
    const child = spawn(process.execPath, [ENVOI_BIN, role], {
      env: { ...env, ...more },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return {
      child,
      output: () => output,
      exited,
      alive: () => child.exitCode === null && child.signalCode === null,
      async ready(pattern: RegExp) {
        await waitFor(() => pattern.test(output) || !this.alive(), `${role} ready`);
        expect(this.alive(), output).toBe(true);
        return pattern.exec(output)?.[1] ?? '';
      },
    };
  }

  /** Restart, crash and network cut in turn, each under load; the figures of each are logged. */
  async function outages(url: string, load: Load, roles: Role[]): Promise<void> {
    const waitUntil = (check: () => boolean, what: string) =>
      waitFor(() => {
        // A process that died is the failure itself: say so rather than time out.
        for (const role of roles) if (!role.alive()) throw new Error(`Envoi died:\n${role.output().slice(-3000)}`);
        return check();
      }, what);
    await waitUntil(() => load.acknowledged.length >= 50, 'first 201s');
    for (const outage of ['restart', 'crash', 'cut'] as const) {
      const before = load.acknowledged.length;
      const began = Date.now();
      let status: StatusSeen | null = null;
      if (outage === 'restart') {
        await cluster.restart();
      } else if (outage === 'crash') {
        await cluster.kill();
        status = await statusOf(url);
        // A signed-in person's page needs the session's row: an apology page that says when to come back.
        const page = await fetch(`${url}/`, {
          headers: { accept: 'text/html', cookie: `envoi_session=${'a'.repeat(43)}` },
          signal: AbortSignal.timeout(20_000),
        });
        expect(page.status).toBe(503);
        expect(page.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(await page.text()).toContain('Sorry, there is a problem with Envoi');
        await sleep(1000);
        await cluster.start();
      } else {
        proxy.freeze();
        await waitUntil(() => load.unavailable() > 0, '503s during the cut');
        status = await statusOf(url);
        await sleep(1000);
        proxy.resume();
      }
      const back = Date.now();
      await waitUntil(() => load.acknowledged.length > before + 150, `201s again after the ${outage}`);
      const firstAfter = load.acknowledgedAt.find((t) => t >= back) ?? Number.NaN;
      console.log(
        `${outage}: database away ${back - began} ms, first 201 ${firstAfter - back} ms after its return, ` +
          `slowest answer so far ${load.slowestMs()} ms`,
      );
      if (status) {
        expect(status.code).toBe(503);
        expect(status.body).not.toMatch(/127\.0\.0\.1|ECONN|terminat|timeout|message/i);
      }
    }
  }

  it('one process (envoi start) rides out a restart, a crash and a network cut', async () => {
    const { env, direct, key, templateId } = await prepare('outage_single');
    const envoi = spawnEnvoi('start', env, { SHUTDOWN_TIMEOUT_SECONDS: '2' });
    const url = await envoi.ready(/listening on (http:\/\/[^\s"]+)/);
    const load = startLoad(url, key, templateId);
    await outages(url, load, [envoi]);
    await load.stop();

    expect(envoi.alive(), envoi.output()).toBe(true);
    load.expectOnly503sInNotifyFormat();
    await expectAllStored(direct, load.acknowledged);
    console.log(`single process: ${load.acknowledged.length} acknowledged, ${load.unavailable()} answered 503`);

    // A frozen database holds the stop (the pool's connections cannot even say goodbye): the bound ends it.
    proxy.freeze();
    envoi.child.kill('SIGTERM');
    expect(await envoi.exited).toBe(1);
    proxy.resume();
    expect(envoi.output()).toMatch(/not stopped after 2 s/);
  }, 120_000);

  it('the API and the worker as separate processes ride it out, and the worker delivers everything', async () => {
    const { env, direct, key, templateId } = await prepare('outage_split');
    const api = spawnEnvoi('api', env);
    const url = await api.ready(/listening on (http:\/\/[^\s"]+)/);
    let worker = spawnEnvoi('worker', env);
    await worker.ready(/delivery worker (started)/);
    const load = startLoad(url, key, templateId);
    await outages(url, load, [api, worker]);

    // SIGTERM under load: the worker stops claiming, finishes or gives back what it holds, and exits 0.
    worker.child.kill('SIGTERM');
    expect(await worker.exited, worker.output()).toBe(0);
    await load.stop();
    expect(api.alive(), api.output()).toBe(true);
    load.expectOnly503sInNotifyFormat();
    await expectAllStored(direct, load.acknowledged);

    worker = spawnEnvoi('worker', env);
    await worker.ready(/delivery worker (started)/);
    await waitFor(async () => (await undelivered(direct)) === 0, 'every notification delivered', 90_000);
    console.log(`split roles: ${load.acknowledged.length} acknowledged and delivered, ${load.unavailable()} 503s`);

    api.child.kill('SIGTERM');
    worker.child.kill('SIGTERM');
    expect(await api.exited, api.output()).toBe(0);
    expect(await worker.exited, worker.output()).toBe(0);
  }, 150_000);
});

interface Role {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  alive(): boolean;
  /** Waits for the pattern in the output; resolves to its first group. */
  ready(pattern: RegExp): Promise<string>;
}

interface Answer {
  status: number;
  ms: number;
  retryAfter: string | null;
  body: string;
}

interface Load {
  acknowledged: string[];
  /** When each 201 came, in order. */
  acknowledgedAt: number[];
  unavailable(): number;
  slowestMs(): number;
  expectOnly503sInNotifyFormat(): void;
  stop(): Promise<void>;
}

/** Concurrent senders posting emails until stopped; every answer kept. */
function startLoad(url: string, key: string, templateId: string): Load {
  const acknowledged: string[] = [];
  const acknowledgedAt: number[] = [];
  const others: Answer[] = [];
  let slowest = 0;
  let running = true;
  let n = 0;
  async function sender(): Promise<void> {
    while (running) {
      const started = Date.now();
      let res: Response;
      let body: string;
      try {
        res = await fetch(`${url}/v2/notifications/email`, {
          method: 'POST',
          headers: { authorization: bearer(key), 'content-type': 'application/json' },
          body: JSON.stringify({ email_address: `person${n++}@example.com`, template_id: templateId }),
          signal: AbortSignal.timeout(60_000),
        });
        body = await res.text();
      } catch (err) {
        others.push({
          status: 0,
          ms: Date.now() - started,
          retryAfter: null,
          body: String((err as Error).cause ?? err),
        });
        await sleep(200);
        continue;
      }
      const ms = Date.now() - started;
      slowest = Math.max(slowest, ms);
      if (res.status === 201) {
        acknowledged.push(JSON.parse(body).id);
        acknowledgedAt.push(Date.now());
      } else {
        others.push({ status: res.status, ms, retryAfter: res.headers.get('retry-after'), body });
        // As a client told to come back later would, without giving up.
        await sleep(50);
      }
    }
  }
  const senders = Array.from({ length: SENDERS }, () => sender());
  return {
    acknowledged,
    acknowledgedAt,
    unavailable: () => others.filter((a) => a.status === 503).length,
    slowestMs: () => slowest,
    expectOnly503sInNotifyFormat() {
      for (const answer of others) {
        expect(answer.status, answer.body).toBe(503);
        expect(answer.retryAfter).toMatch(/^\d+$/);
        expect(JSON.parse(answer.body)).toEqual({
          status_code: 503,
          errors: [{ error: 'ServiceUnavailable', message: expect.any(String) }],
        });
      }
      // "Fast": far below the 60 s a hung request would take; the figure itself is logged above.
      expect(slowest).toBeLessThan(20_000);
    },
    async stop() {
      running = false;
      await Promise.all(senders);
    },
  };
}

interface StatusSeen {
  code: number;
  body: string;
}

async function statusOf(url: string): Promise<StatusSeen> {
  const res = await fetch(`${url}/_status`, { signal: AbortSignal.timeout(20_000) });
  return { code: res.status, body: await res.text() };
}

async function expectAllStored(databaseUrl: string, ids: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string }>('SELECT id FROM notifications WHERE id = ANY($1::uuid[])', [
      ids,
    ]);
    const stored = new Set(rows.map((r) => r.id));
    const lost = ids.filter((id) => !stored.has(id));
    expect(lost).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
  } finally {
    await client.end();
  }
}

async function undelivered(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM notifications WHERE status NOT IN ('delivered', 'sending')`,
    );
    return rows[0]!.n;
  } finally {
    await client.end();
  }
}

function bootstrapFile() {
  return {
    services: [
      {
        name: 'Outage Office',
        id: SERVICE_ID,
        restricted: false,
        permissions: ['email'],
        message_limit: { email: 1_000_000 },
        rate_limit: 1_000_000,
        email_sender: 'outage',
        templates: [
          { key: 'email', type: 'email', versions: [{ name: 'Notice', subject: 'Notice', content: 'Hello' }] },
        ],
        api_keys: [{ name: 'live', type: 'normal' }],
      },
    ],
  };
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function onCluster(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
