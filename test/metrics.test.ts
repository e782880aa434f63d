/**
 * Metrics as an operator's Prometheus sees them: a real `envoi start` with METRICS_PORT, sends with the official
 * client, then GET /metrics read as Prometheus text. Then the parts a single process cannot show cheaply, in this
 * process: the queue's age over real rows, a failing age query, receipts, failover, and the settings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql, type RawBuilder } from 'kysely';
import { NotifyClient } from 'notifications-node-client';
import { createSandbox, ENVOI_BIN, type EnvoiSandbox } from './support/envoi-process.ts';
import { startEnvoi, type RunningEnvoi } from './support/envoi.ts';
import { loadConfig, ConfigError } from '../src/platform/config.ts';
import { measureQueueAge, reportProviders, scrape } from '../src/platform/metrics.ts';
import { oldestDueSeconds, oldestDueSecondsByLane } from '../src/notify/delivery/worker.ts';
import { createReceiptApplier } from '../src/notify/delivery/receipts/applier.ts';
import {
  createFailoverProvider,
  providerChoice,
  type ChannelProvider,
} from '../src/notify/delivery/providers/failover.ts';
import type { ProviderResult } from '../src/notify/delivery/providers/types.ts';
import { call } from './api/helpers.ts';
import { freePort } from './support/ports.ts';

const EXAMPLE_PATH = path.resolve(import.meta.dirname, '../examples/bootstrap.json');
const EXAMPLE = JSON.parse(readFileSync(EXAMPLE_PATH, 'utf8'));
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
const run = promisify(execFile);

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus's text format, samples only (HELP and TYPE lines skipped). */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key!] = raw!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample with this name and (at least) these labels; undefined when there is none. */
function sampleValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

/** The TCP ports a process listens on, from /proc: its socket inodes matched against the kernel's listen table. */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // Closed meanwhile.
    }
  }
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; state 0A is LISTEN; column 10 is the inode.
      if (cols[3] === '0A' && inodes.has(cols[9]!)) ports.add(parseInt(cols[1]!.split(':')[1]!, 16));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

async function waitForStatus(client: InstanceType<typeof NotifyClient>, id: string, wanted: string): Promise<void> {
  let status = '';
  for (let i = 0; i < 400 && status !== wanted; i++) {
    status = (await client.getNotificationById(id)).data.status;
    if (status !== wanted) await new Promise((r) => setTimeout(r, 25));
  }
  expect(status).toBe(wanted);
}

describe('GET /metrics on a running Envoi', () => {
  let sandbox: EnvoiSandbox;
  let server: ChildProcess;
  let apiUrl: string;
  let metricsPort: number;
  let keys: { live: string; test: string };
  let templateId: string;

  beforeAll(async () => {
    sandbox = await createSandbox('envoi-metrics');
    metricsPort = await freePort();
    ({ child: server, url: apiUrl } = await sandbox.start({ METRICS_PORT: String(metricsPort) }));
    const provisioned = JSON.parse((await sandbox.envoi('bootstrap', EXAMPLE_PATH)).stdout);
    keys = provisioned.services[0].api_keys;
    templateId = provisioned.services[0].templates.welcome;
  });

  afterAll(() => sandbox?.cleanup());

  it('counts sends, hand-offs and requests under their route patterns, with no ids in any label', async () => {
    const personalisation = { 'first name': 'Alex', 'reference number': 'A-1234', 'has documents': 'no' };
    const live = new NotifyClient(apiUrl, keys.live);
    const test = new NotifyClient(apiUrl, keys.test);
    const sent = await live.sendEmail(templateId, 'alex.tremblay@example.gc.ca', { personalisation });
    const faked = await test.sendEmail(templateId, 'someone@example.com', { personalisation });
    await waitForStatus(live, sent.data.id, 'delivered');
    await waitForStatus(test, faked.data.id, 'delivered');
    // A URL that matches no route, carrying an id.
    expect((await fetch(`${apiUrl}/v2/nothing-here/${sent.data.id}`)).status).toBe(404);

    const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = parseMetrics(await response.text());

    expect(sampleValue(samples, 'envoi_notifications_accepted_total', { channel: 'email', key_type: 'normal' })).toBe(
      1,
    );
    expect(sampleValue(samples, 'envoi_notifications_accepted_total', { channel: 'email', key_type: 'test' })).toBe(1);
    expect(sampleValue(samples, 'envoi_notifications_accepted_total', { channel: 'sms', key_type: 'normal' })).toBe(0);
    // The live email went to the sink; the test key's outcome is made up and not a delivery.
    expect(
      sampleValue(samples, 'envoi_deliveries_total', { channel: 'email', provider: 'sink', status: 'delivered' }),
    ).toBe(1);
    expect(samples.filter((s) => s.name === 'envoi_deliveries_total').reduce((n, s) => n + s.value, 0)).toBe(1);
    expect(sampleValue(samples, 'envoi_handoff_seconds_count', { channel: 'email' })).toBe(1);
    expect(sampleValue(samples, 'envoi_handoff_seconds_bucket', { channel: 'email', le: '+Inf' })).toBe(1);

    const post = { method: 'POST', route: '/v2/notifications/email' };
    expect(sampleValue(samples, 'envoi_http_requests_total', { ...post, status_code: '201' })).toBe(2);
    expect(sampleValue(samples, 'envoi_http_request_duration_seconds_count', post)).toBe(2);
    const polled = sampleValue(samples, 'envoi_http_requests_total', {
      method: 'GET',
      route: '/v2/notifications/:notification_id',
      status_code: '200',
    });
    expect(polled).toBeGreaterThanOrEqual(2);
    expect(
      sampleValue(samples, 'envoi_http_requests_total', { method: 'GET', route: 'unmatched', status_code: '404' }),
    ).toBe(1);
    const withIds = samples.filter((s) => Object.values(s.labels).some((v) => UUID.test(v)));
    expect(withIds).toEqual([]);

    for (const lane of ['high', 'normal', 'bulk']) {
      expect(sampleValue(samples, 'envoi_queue_oldest_due_seconds', { lane })).toBe(0);
    }
    expect(sampleValue(samples, 'envoi_database_up')).toBe(1);
    expect(sampleValue(samples, 'envoi_callbacks_pending')).toBe(0);
    expect(sampleValue(samples, 'envoi_jobs_ended_total', { status: 'error' })).toBe(0);
    expect(sampleValue(samples, 'envoi_provider_active', { channel: 'email', provider: 'sink' })).toBe(1);
    expect(sampleValue(samples, 'envoi_process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(sampleValue(samples, 'envoi_process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(samples.some((s) => s.name.startsWith('envoi_nodejs_eventloop_lag'))).toBe(true);
  });

  it('answers 404 for anything but GET /metrics, on a listener of its own', async () => {
    expect((await fetch(`http://127.0.0.1:${metricsPort}/`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${apiUrl}/metrics`)).status).toBe(404);
    const apiPort = Number(new URL(apiUrl).port);
    expect(listeningPorts(server.pid!)).toEqual([apiPort, metricsPort].sort((a, b) => a - b));
  });

  it('frees its port when it stops; without METRICS_PORT no listener is opened', async () => {
    server.kill('SIGTERM');
    expect(await new Promise((resolve) => server.once('exit', resolve))).toBe(0);
    await expect(portIsFree(metricsPort)).resolves.toBe(true);

    const again = await sandbox.start();
    expect(listeningPorts(again.child.pid!)).toEqual([Number(new URL(again.url).port)]);
    again.child.kill('SIGTERM');
    await new Promise((resolve) => again.child.once('exit', resolve));
  });

  it.runIf(process.env.DATABASE_URL)(
    'serves metrics from `envoi api` and `envoi worker` too, the queue age only from the worker',
    async () => {
      const [apiPort, workerPort] = [await freePort(), await freePort()];
      const api = spawnRole('api', { ...sandbox.env, METRICS_PORT: String(apiPort) }, /listening on http/);
      const worker = spawnRole(
        'worker',
        { ...sandbox.env, METRICS_PORT: String(workerPort) },
        /delivery worker started/,
      );
      try {
        await Promise.all([api.ready, worker.ready]);
        const [fromApi, fromWorker] = await Promise.all(
          [apiPort, workerPort].map(async (port) =>
            parseMetrics(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()),
          ),
        );
        expect(sampleValue(fromApi!, 'envoi_queue_oldest_due_seconds')).toBeUndefined();
        expect(
          sampleValue(fromApi!, 'envoi_notifications_accepted_total', { channel: 'email', key_type: 'normal' }),
        ).toBe(0);
        expect(sampleValue(fromWorker!, 'envoi_queue_oldest_due_seconds', { lane: 'bulk' })).toBe(0);
        expect(sampleValue(fromApi!, 'envoi_database_up')).toBe(1);
        expect(sampleValue(fromWorker!, 'envoi_database_up')).toBe(1);
        expect(sampleValue(fromWorker!, 'envoi_provider_active', { channel: 'sms', provider: 'sink' })).toBe(1);
        expect(sampleValue(fromWorker!, 'envoi_process_cpu_seconds_total')).toBeGreaterThan(0);
      } finally {
        await Promise.all([api.stop(), worker.stop()]);
      }
    },
  );

  it('stops with a clear message when the metrics port is taken', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(metricsPort, '127.0.0.1', resolve));
    try {
      const failure = await run(process.execPath, [ENVOI_BIN, 'start'], {
        env: { ...sandbox.env, METRICS_PORT: String(metricsPort) },
        cwd: sandbox.dir,
      }).then(
        () => null,
        (err: { code: number; stderr: string }) => err,
      );
      expect(failure?.code).toBe(2);
      expect(failure?.stderr).toContain(
        `cannot serve metrics on 127.0.0.1:${metricsPort}: the port is already in use (METRICS_PORT)`,
      );
      expect(failure?.stderr).not.toMatch(/^\s+at /m);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});

/** `envoi <role>`, ready once its output matches `readyWhen`. */
function spawnRole(
  role: 'api' | 'worker',
  env: NodeJS.ProcessEnv,
  readyWhen: RegExp,
): { ready: Promise<void>; stop(): Promise<void> } {
  const child = spawn(process.execPath, [ENVOI_BIN, role], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (readyWhen.test(output)) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => reject(new Error(`envoi ${role} exited with ${code}:\n${output}`)));
  });
  return {
    ready,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function portIsFree(port: number): Promise<boolean> {
  const probe = net.createServer();
  return new Promise((resolve) => {
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

describe('metrics worked out in this process', () => {
  let envoi: RunningEnvoi;

  beforeAll(async () => {
    envoi = await startEnvoi({ bootstrap: EXAMPLE });
  });

  afterAll(() => envoi?.stop());

  async function scraped(): Promise<Sample[]> {
    return parseMetrics((await scrape()).body);
  }

  it("measures how long the oldest due, unclaimed notification has waited, from the claim queue's index", async () => {
    const service = envoi.provisioned.services[0]!;
    // No worker runs here: the row stays queued.
    const sent = await new NotifyClient(envoi.url, service.api_keys.live!).sendEmail(
      service.templates.welcome!,
      'alex.tremblay@example.gc.ca',
      {
        personalisation: { 'first name': 'Alex', 'reference number': 'A-1', 'has documents': 'no' },
      },
    );
    const db = envoi.database.db;
    const set = (changes: RawBuilder<unknown>) =>
      sql`UPDATE notifications SET ${changes} WHERE id = ${sent.data.id}`.execute(db);

    await set(sql`next_attempt_at = now() - interval '90 seconds'`);
    const age = await oldestDueSeconds(db);
    expect(age).toBeGreaterThanOrEqual(90);
    expect(age).toBeLessThan(150);

    const forget = measureQueueAge(() => oldestDueSecondsByLane(db));
    try {
      const waiting = await scraped();
      // The welcome template is in the normal lane: the other lanes have nothing waiting.
      expect(sampleValue(waiting, 'envoi_queue_oldest_due_seconds', { lane: 'normal' })).toBeGreaterThanOrEqual(90);
      expect(sampleValue(waiting, 'envoi_queue_oldest_due_seconds', { lane: 'high' })).toBe(0);
      expect(sampleValue(waiting, 'envoi_queue_oldest_due_seconds', { lane: 'bulk' })).toBe(0);
      // Claimed by a worker (a live lease): not waiting any more.
      await set(sql`claimed_until = now() + interval '60 seconds'`);
      expect(await oldestDueSeconds(db)).toBe(0);
      // A lease run out: waiting again.
      await set(sql`claimed_until = now() - interval '1 second'`);
      expect(await oldestDueSeconds(db)).toBeGreaterThanOrEqual(90);
      // Scheduled for later: not due yet.
      await set(sql`claimed_until = NULL, next_attempt_at = now() + interval '1 hour'`);
      expect(sampleValue(await scraped(), 'envoi_queue_oldest_due_seconds', { lane: 'normal' })).toBe(0);
    } finally {
      forget();
    }
    // A process without a worker has no value for it.
    expect(sampleValue(await scraped(), 'envoi_queue_oldest_due_seconds')).toBeUndefined();
  });

  it("counts a bulk job's rows once they are queued, leaving out simulated ones", async () => {
    const service = envoi.provisioned.services[0]!;
    const accepted = async () =>
      sampleValue(await scraped(), 'envoi_notifications_accepted_total', { channel: 'email', key_type: 'normal' })!;
    const before = await accepted();
    const created = await call(envoi.url, 'POST', '/v2/notifications/bulk', {
      key: service.api_keys.live!,
      json: {
        template_id: service.templates.welcome,
        name: 'metrics',
        rows: [
          ['email address', 'first name', 'reference number', 'has documents'],
          ['alex.tremblay@example.gc.ca', 'Alex', 'B-1', 'no'],
          ['sam.okafor@example.gc.ca', 'Sam', 'B-2', 'no'],
          ['simulate-delivered@notification.canada.ca', 'Sim', 'B-3', 'no'],
        ],
      },
    });
    expect(created.status).toBe(201);
    await envoi.services.jobs.idle();
    expect(await accepted()).toBe(before + 2);
  });

  it('leaves the queue age out, logged, when its query fails, and still answers the scrape', async () => {
    const warnings: string[] = [];
    const logger = { info() {}, error() {}, warn: (_: object, msg?: string) => void warnings.push(msg ?? '') };
    const forget = measureQueueAge(
      () => sql<{ n: number }>`SELECT * FROM no_such_table`.execute(envoi.database.db).then(() => ({ normal: 1 })),
      logger,
    );
    try {
      const samples = await scraped();
      expect(sampleValue(samples, 'envoi_queue_oldest_due_seconds')).toBeUndefined();
      // The rest of the scrape is still there.
      expect(
        sampleValue(samples, 'envoi_notifications_accepted_total', { channel: 'email', key_type: 'normal' }),
      ).toBeGreaterThanOrEqual(0);
      expect(warnings).toEqual(['could not measure the age of the oldest due notification for /metrics']);
    } finally {
      forget();
    }
  });

  it('counts receipts applied, ignored and waiting for their notification', async () => {
    const before = await scraped();
    const service = envoi.provisioned.services[0]!;
    const sent = await new NotifyClient(envoi.url, service.api_keys.live!).sendEmail(
      service.templates.welcome!,
      'alex.tremblay@example.gc.ca',
      {
        personalisation: { 'first name': 'Alex', 'reference number': 'A-2', 'has documents': 'no' },
      },
    );
    // As if a provider had taken it under reference ref-1.
    await sql`UPDATE notifications SET status = 'sending', provider = 'ses', provider_reference = 'ref-1' WHERE id = ${sent.data.id}`.execute(
      envoi.database.db,
    );
    const applier = createReceiptApplier(envoi.database.db, { retryForMs: 60_000 });
    const delivered = { kind: 'status' as const, status: 'delivered' as const, response: 'ok', at: new Date() };
    await applier.submit([{ ...delivered, target: { provider: 'ses', reference: 'ref-1' } }]);
    // Already final now.
    await applier.submit([{ ...delivered, target: { provider: 'ses', reference: 'ref-1' } }]);
    // Not (yet) known.
    await applier.submit([{ ...delivered, target: { provider: 'ses', reference: 'ref-unknown' } }]);
    await applier.close();

    const after = await scraped();
    const delta = (result: string) =>
      sampleValue(after, 'envoi_receipts_total', { result })! -
      sampleValue(before, 'envoi_receipts_total', { result })!;
    expect(delta('applied')).toBe(1);
    expect(delta('waiting')).toBe(1);
    // The one already final, and the unknown one dropped when the applier closed.
    expect(delta('ignored')).toBe(2);
  });

  it("reports which provider takes a channel's traffic as failover moves it", async () => {
    let clock = 1_000_000;
    let firstFails = false;
    const provider = (name: string): ChannelProvider<string> => ({
      name,
      async send(): Promise<ProviderResult> {
        return name === 'ses' && firstFails
          ? { outcome: 'retry', response: 'down' }
          : { outcome: 'accepted', reference: 'r', response: 'ok' };
      },
      async close() {},
    });
    const failover = createFailoverProvider([provider('ses'), provider('smtp')], {
      errorRate: 0.5,
      windowSeconds: 60,
      minSends: 2,
      cooldownSeconds: 30,
      now: () => clock,
    });
    const forget = reportProviders({ channel: 'email', ...providerChoice(failover) });
    try {
      let samples = await scraped();
      expect(sampleValue(samples, 'envoi_provider_active', { channel: 'email', provider: 'ses' })).toBe(1);
      expect(sampleValue(samples, 'envoi_provider_active', { channel: 'email', provider: 'smtp' })).toBe(0);

      firstFails = true;
      await failover.send('a');
      await failover.send('b');
      samples = await scraped();
      expect(sampleValue(samples, 'envoi_provider_active', { channel: 'email', provider: 'ses' })).toBe(0);
      expect(sampleValue(samples, 'envoi_provider_active', { channel: 'email', provider: 'smtp' })).toBe(1);

      // After the cooldown a trial send succeeds: traffic goes back.
      firstFails = false;
      clock += 31_000;
      await failover.send('c');
      samples = await scraped();
      expect(sampleValue(samples, 'envoi_provider_active', { channel: 'email', provider: 'ses' })).toBe(1);
    } finally {
      forget();
    }
    expect(
      sampleValue(await scraped(), 'envoi_provider_active', { channel: 'email', provider: 'smtp' }),
    ).toBeUndefined();
  });

  it('reads METRICS_PORT and METRICS_HOST, refusing a bad port by name', () => {
    expect(loadConfig({}).metrics).toEqual({ port: null, host: '127.0.0.1' });
    expect(loadConfig({ METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0' }).metrics).toEqual({
      port: 9464,
      host: '0.0.0.0',
    });
    expect(() => loadConfig({ METRICS_PORT: 'nine' })).toThrow(ConfigError);
    expect(() => loadConfig({ METRICS_PORT: '70000' })).toThrow(
      'METRICS_PORT must be a whole number from 0 to 65535, got "70000"',
    );
  });
});
