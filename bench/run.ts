/**
 * Accept benchmark (DESIGN.md §4): `POST /v2/notifications/email` on real PostgreSQL against a bare Fastify route
 * in the same run, under autocannon, with the budgets checked and a durability check (every 201 is a committed row).
 *
 *   npm run bench                                        # this, then bench/bulk.ts (package.json chains them)
 *   node --import tsx bench/run.ts --duration 30 --warmup 5 --rounds 3 --connections 64
 *   BENCH_DURATION=30 BENCH_WARMUP=5 npm run bench       # the same through npm (npm's `--` args reach bulk.ts)
 *   node --import tsx bench/run.ts --mode child          # child | inproc | both (default both; budgets use child)
 *   node --import tsx bench/run.ts --only envoi --cpu-prof  # V8 profiles of the server child: bench/results/profiles/
 *
 * Each server (Envoi, bare) is warmed up, then loaded in `rounds` slices that alternate between the two, so that
 * both see the same machine: on a shared VM the bare figure alone moves by half from one minute to the next.
 * Before each slice the bench waits (up to --quiet-wait seconds, default 120) for other processes to go quiet,
 * and it reports the CPU each party used, so that a figure taken next to a test run is flagged, not trusted.
 *
 * Database: DATABASE_URL if set (used as is, never dropped; rows are counted for this run's own service), else a
 * fresh `envoi_bench_<pid>` on postgres://postgres@127.0.0.1:5432, dropped at the end.
 *
 * Always exits 0 once it has measured, even when a budget fails: it is a measurement. Figures also go to
 * bench/results/latest.json.
 */
import { cpuSeconds, machineBusy, sleep, waitForQuiet } from './machine.ts';
import { openBenchDatabase, provisionBenchService, type BenchDatabase, type BenchService } from './fixture.ts';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { sql } from 'kysely';
import type { DbHandle } from '../src/platform/database/connection.ts';
import { signToken } from '../src/notify/api/v2/jwt.ts';
import { startServer, startServerChild, type ServerHandle, type ServerKind, type ServerOptions } from './server.ts';

// ---------------------------------------------------------------------------------------------------------------
// Settings

type Mode = 'child' | 'inproc';

interface Settings {
  duration: number;
  warmup: number;
  connections: number;
  modes: Mode[];
  kinds: ServerKind[];
  cpuProf: boolean;
  /** Seconds to wait, before each slice, for the machine to be quiet (other processes using < 0.3 cores). */
  quietWait: number;
  /** The measured time of each server is cut into this many slices, alternating between the servers. */
  rounds: number;
  sliceSeconds: number;
}

function readSettings(argv: string[], env: NodeJS.ProcessEnv): Settings {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    if (eq > 0) flags.set(arg.slice(2, eq), arg.slice(eq + 1));
    else if (arg === '--cpu-prof') flags.set('cpu-prof', 'true');
    else flags.set(arg.slice(2), argv[++i] ?? '');
  }
  const known = ['duration', 'warmup', 'connections', 'mode', 'only', 'cpu-prof', 'quiet-wait', 'rounds'];
  for (const k of flags.keys())
    if (!known.includes(k)) throw new Error(`unknown option --${k} (known: ${known.join(', ')})`);
  const pick = (flag: string, envName: string, fallback: string) => flags.get(flag) ?? env[envName] ?? fallback;
  const number = (flag: string, envName: string, fallback: number, min: number) => {
    const raw = pick(flag, envName, String(fallback));
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min)
      throw new Error(`--${flag} / ${envName} must be a number ≥ ${min}, got "${raw}"`);
    return n;
  };
  const mode = pick('mode', 'BENCH_MODE', 'both');
  if (!['child', 'inproc', 'both'].includes(mode))
    throw new Error(`--mode must be child, inproc or both, got "${mode}"`);
  const only = pick('only', 'BENCH_ONLY', 'both');
  if (!['envoi', 'bare', 'both'].includes(only)) throw new Error(`--only must be envoi, bare or both, got "${only}"`);
  const duration = number('duration', 'BENCH_DURATION', 15, 1);
  const rounds = Math.max(1, Math.round(number('rounds', 'BENCH_ROUNDS', 3, 1)));
  const sliceSeconds = Math.max(1, Math.round(duration / rounds));
  return {
    duration: sliceSeconds * rounds,
    rounds,
    sliceSeconds,
    warmup: number('warmup', 'BENCH_WARMUP', 3, 0),
    connections: Math.round(number('connections', 'BENCH_CONNECTIONS', 64, 1)),
    modes: mode === 'both' ? ['child', 'inproc'] : [mode as Mode],
    kinds: only === 'both' ? ['bare', 'envoi'] : [only as ServerKind],
    cpuProf: flags.get('cpu-prof') === 'true' || env.BENCH_CPU_PROF === '1',
    quietWait: number('quiet-wait', 'BENCH_QUIET_WAIT', 120, 0),
  };
}

const BUDGET = { acceptedPerSecond: 5_000, p99Ms: 50, ratio: 0.3 } as const;
const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

// ---------------------------------------------------------------------------------------------------------------
// Database and provisioning

async function countRows(db: DbHandle, serviceId: string): Promise<number> {
  const row = await sql<{
    n: number;
  }>`SELECT count(*)::int AS n FROM notifications WHERE service_id = ${serviceId}`.execute(db.db);
  return row.rows[0]!.n;
}

/** How many of these notification ids are committed rows. */
async function countCommitted(db: DbHandle, ids: string[]): Promise<number> {
  let found = 0;
  for (let i = 0; i < ids.length; i += 20_000) {
    const chunk = ids.slice(i, i + 20_000);
    const row = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM notifications WHERE id = ANY(${chunk}::uuid[])`.execute(db.db);
    found += row.rows[0]!.n;
  }
  return found;
}

/** Waits until the row count stops moving (requests cut off at the end of a run may still be committing). */
async function settledCount(db: DbHandle, serviceId: string): Promise<number> {
  let last = await countRows(db, serviceId);
  for (let i = 0; i < 50; i++) {
    await sleep(200);
    const now = await countRows(db, serviceId);
    if (now === last) return now;
    last = now;
  }
  return last;
}

// ---------------------------------------------------------------------------------------------------------------
// Servers

async function startInProcess(kind: ServerKind, opts: ServerOptions): Promise<ServerHandle> {
  const server = await startServer(kind, opts);
  return { port: server.port, cpu: async () => null, stop: () => server.close() };
}

// ---------------------------------------------------------------------------------------------------------------
// Load

interface LoadTarget {
  kind: ServerKind;
  port: number;
  path: string;
  body: string;
  /** Signs a fresh bearer token (re-signed every second so that iat stays within Notify's ±30 s). */
  sign: () => string;
  connections: number;
}

interface LoadRun {
  result: autocannon.Result;
  /** Latency in ms of each 2xx response (autocannon's own histogram keeps whole milliseconds only). */
  latencies: number[];
  /** Ids from the bodies of the 201s, in the order they came. */
  ids: string[];
  statusCounts: Record<string, number>;
  /** Requests written by the clients, and responses they read: the difference was cut off in flight at the end. */
  requestsWritten: number;
  responsesRead: number;
  /** A few non-2xx bodies, to show what went wrong. */
  sampleErrors: string[];
}

async function load(target: LoadTarget, seconds: number): Promise<LoadRun> {
  const ids: string[] = [];
  const latencies: number[] = [];
  const statusCounts: Record<string, number> = {};
  const sampleErrors: string[] = [];
  let requestsWritten = 0;
  let responsesRead = 0;
  const clients = new Set<autocannon.Client>();
  const headersWith = (token: string) => ({ 'content-type': 'application/json', authorization: `Bearer ${token}` });
  let headers = headersWith(target.sign());
  // One HMAC a second, and one request rebuild per connection a second: the request buffer is otherwise reused.
  const resign = setInterval(() => {
    headers = headersWith(target.sign());
    for (const client of clients) client.setHeaders(headers);
  }, 1000);
  try {
    const options: autocannon.Options = {
      url: `http://127.0.0.1:${target.port}`,
      connections: target.connections,
      duration: seconds,
      pipelining: 1,
      timeout: 10,
      requests: [
        {
          method: 'POST',
          path: target.path,
          headers,
          body: target.body,
          onResponse: (status: number, body: string) => {
            responsesRead += 1;
            statusCounts[status] = (statusCounts[status] ?? 0) + 1;
            if (status === 201) {
              // Both servers answer with `{"id":"<uuid>",…` first: slicing is cheaper than parsing in the load generator.
              ids.push(body.startsWith('{"id":"') ? body.slice(7, 43) : (JSON.parse(body) as { id: string }).id);
            } else if (sampleErrors.length < 5) {
              sampleErrors.push(`${status} ${body.slice(0, 300)}`);
            }
          },
        },
      ],
      setupClient: (client) => {
        clients.add(client);
        client.setHeaders(headers);
        // Emitted by autocannon's client before each request is written (not in @types/autocannon).
        (client as NodeJS.EventEmitter).on('request', () => {
          requestsWritten += 1;
        });
      },
    };
    const result = await new Promise<autocannon.Result>((resolve, reject) => {
      const instance = autocannon(options, (err, res) => (err ? reject(err) : resolve(res)));
      instance.on('response', (_client, statusCode, _bytes, responseTime) => {
        if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
      });
    });
    return { result, latencies, ids, statusCounts, requestsWritten, responsesRead, sampleErrors };
  } finally {
    clearInterval(resign);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Measuring: both servers up, each warmed, then loaded in alternating slices so that both see the same machine

interface Measurement {
  mode: Mode;
  kind: ServerKind;
  /** Responses per second over the measured slices. */
  requestsPerSecond: number;
  /** 201s per second over the measured slices. */
  acceptedPerSecond: number;
  latencyMs: { p50: number; p97_5: number; p99: number; max: number; mean: number };
  /** Each slice's own rate, to show how steady the machine was. */
  sliceRequestsPerSecond: number[];
  responses: number;
  created: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCounts: Record<string, number>;
  sampleErrors: string[];
  durationSeconds: number;
  cpu: {
    /** Seconds of CPU per second of wall time, in the server's process (child mode only). */
    server: number | null;
    /** The load generator's process (in-process mode: server and load generator together). */
    loadGenerator: number;
    /** All cores together, 0..cores: server, load generator, PostgreSQL and everything else. */
    machine: number;
    /** The local PostgreSQL server's processes (0 when it is not on this machine). */
    postgres: number;
    /** What is left: other processes sharing the machine. Above ~0.3 the figures are not trustworthy. */
    other: number;
    cores: number;
    /** The most other processes used just before a slice, and how long the bench waited for quiet in all. */
    otherBefore: number;
    waitedForQuietSeconds: number;
  };
  durability: Durability | null;
}

interface Durability {
  /** 201s over warm-up and measured slices together. */
  created: number;
  /** Rows this server added to notifications (counted after the writes settled). */
  rowsAdded: number;
  /** 201 ids not found in the table: must be 0 (a 201 means committed). */
  missing: number;
  /** Requests cut off in flight when autocannon stopped: each may or may not have been committed. */
  cutOff: number;
  ok: boolean;
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU seconds used so far by the local PostgreSQL server's processes (Linux /proc; 0 elsewhere or when the server
 * is remote). Backends that exit during a run take their time with them, so this reads slightly low.
 */
function postgresCpuSeconds(): number {
  let ticks = 0;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      if (comm !== 'postgres' && !comm.startsWith('postgres:')) continue;
      const fields = stat.slice(close + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
    } catch {
      // Gone between readdir and read.
    }
  }
  return ticks / CLOCK_TICKS;
}

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** What one server accumulates over its slices. */
class Tally {
  readonly latencies: number[] = [];
  readonly ids: string[] = [];
  readonly statusCounts: Record<string, number> = {};
  readonly sampleErrors: string[] = [];
  readonly sliceRates: number[] = [];
  seconds = 0;
  responses = 0;
  non2xx = 0;
  errors = 0;
  timeouts = 0;
  cutOff = 0;
  warmIds: string[] = [];
  serverCpu: number | null = 0;
  generatorCpu = 0;
  machineCpu = 0;
  postgresCpu = 0;
  otherBefore = 0;
  waited = 0;

  add(run: LoadRun): void {
    const r = run.result;
    for (const l of run.latencies) this.latencies.push(l);
    for (const id of run.ids) this.ids.push(id);
    for (const [code, n] of Object.entries(run.statusCounts))
      this.statusCounts[code] = (this.statusCounts[code] ?? 0) + n;
    for (const e of run.sampleErrors) if (this.sampleErrors.length < 5) this.sampleErrors.push(e);
    this.seconds += r.duration;
    this.responses += run.responsesRead;
    this.sliceRates.push(run.responsesRead / r.duration);
    this.non2xx += r.non2xx;
    this.errors += r.errors;
    this.timeouts += r.timeouts;
    this.cutOff += run.requestsWritten - run.responsesRead;
  }

  toMeasurement(mode: Mode, kind: ServerKind, durability: Durability | null): Measurement {
    const sorted = Float64Array.from(this.latencies).sort();
    const mean = this.latencies.length ? this.latencies.reduce((a, b) => a + b, 0) / this.latencies.length : 0;
    const created = this.statusCounts['201'] ?? 0;
    const per = (cpuSecondsTotal: number) => cpuSecondsTotal / this.seconds;
    const cores = os.cpus().length;
    const server = this.serverCpu === null ? null : per(this.serverCpu);
    const generator = per(this.generatorCpu);
    const machine = per(this.machineCpu);
    const postgres = Math.max(0, per(this.postgresCpu));
    return {
      mode,
      kind,
      requestsPerSecond: this.responses / this.seconds,
      acceptedPerSecond: created / this.seconds,
      latencyMs: {
        p50: percentile(sorted, 0.5),
        p97_5: percentile(sorted, 0.975),
        p99: percentile(sorted, 0.99),
        max: sorted.length ? sorted[sorted.length - 1]! : 0,
        mean,
      },
      sliceRequestsPerSecond: this.sliceRates.map((r) => Math.round(r)),
      responses: this.responses,
      created,
      non2xx: this.non2xx,
      errors: this.errors,
      timeouts: this.timeouts,
      statusCounts: this.statusCounts,
      sampleErrors: this.sampleErrors,
      durationSeconds: Math.round(this.seconds * 100) / 100,
      cpu: {
        server,
        loadGenerator: generator,
        machine,
        postgres,
        other: Math.max(0, machine - (server ?? 0) - generator - postgres),
        cores,
        otherBefore: this.otherBefore,
        waitedForQuietSeconds: this.waited,
      },
      durability,
    };
  }
}

async function measureMode(
  mode: Mode,
  settings: Settings,
  database: BenchDatabase,
  provisioned: BenchService,
  serverOptions: ServerOptions,
): Promise<Measurement[]> {
  const servers = new Map<ServerKind, ServerHandle>();
  try {
    for (const kind of settings.kinds) {
      servers.set(
        kind,
        mode === 'child'
          ? await startServerChild(kind, serverOptions, settings.cpuProf ? `${RESULTS_DIR}profiles` : null)
          : await startInProcess(kind, serverOptions),
      );
    }
    const body = JSON.stringify({
      email_address: 'bench.recipient@example.com',
      template_id: provisioned.templateId,
      personalisation: { name: 'Ada Lovelace', reference: 'APP-2024-00042' },
    });
    const targetFor = (kind: ServerKind): LoadTarget => ({
      kind,
      port: servers.get(kind)!.port,
      path: kind === 'envoi' ? '/v2/notifications/email' : '/bare',
      body,
      sign: () => signToken(provisioned.serviceId, provisioned.secret),
      connections: settings.connections,
    });
    const settle = async (kind: ServerKind) => {
      if (kind === 'envoi') await settledCount(database.handle, provisioned.serviceId);
      else await sleep(200);
    };
    const rowsBefore = settings.kinds.includes('envoi') ? await countRows(database.handle, provisioned.serviceId) : 0;

    const tallies = new Map(settings.kinds.map((k) => [k, new Tally()]));
    for (const kind of settings.kinds) {
      if (settings.warmup <= 0) continue;
      const warm = await load(targetFor(kind), settings.warmup);
      const tally = tallies.get(kind)!;
      tally.warmIds = warm.ids;
      tally.cutOff += warm.requestsWritten - warm.responsesRead;
      await settle(kind);
    }

    for (let round = 0; round < settings.rounds; round++) {
      // Alternate the order so that neither server always follows the other.
      const order = round % 2 === 0 ? settings.kinds : [...settings.kinds].reverse();
      for (const kind of order) {
        const tally = tallies.get(kind)!;
        const server = servers.get(kind)!;
        const quiet = await waitForQuiet(settings.quietWait);
        tally.otherBefore = Math.max(tally.otherBefore, quiet.otherCores);
        tally.waited += quiet.waitedSeconds > 1.5 ? quiet.waitedSeconds : 0;
        const serverCpu0 = await server.cpu();
        const own0 = process.cpuUsage();
        const pg0 = postgresCpuSeconds();
        const machine0 = machineBusy();
        const run = await load(targetFor(kind), settings.sliceSeconds);
        const machine1 = machineBusy();
        const pg1 = postgresCpuSeconds();
        const own1 = process.cpuUsage();
        const serverCpu1 = await server.cpu();
        tally.add(run);
        const machineTicks = machine1.total - machine0.total;
        // CPU seconds over the slice, scaled to autocannon's own measured period.
        const scale = run.result.duration / Math.max(1e-9, machineTicks / 1000 / os.cpus().length);
        tally.machineCpu += ((machine1.busy - machine0.busy) / 1000) * scale;
        tally.postgresCpu += (pg1 - pg0) * scale;
        tally.generatorCpu += cpuSeconds(own0, own1) * scale;
        tally.serverCpu =
          serverCpu0 && serverCpu1 && tally.serverCpu !== null
            ? tally.serverCpu + cpuSeconds(serverCpu0, serverCpu1) * scale
            : null;
        await settle(kind);
      }
    }

    const measurements: Measurement[] = [];
    for (const kind of settings.kinds) {
      const tally = tallies.get(kind)!;
      let durability: Durability | null = null;
      if (kind === 'envoi') {
        const rowsAfter = await settledCount(database.handle, provisioned.serviceId);
        const allIds = [...tally.warmIds, ...tally.ids];
        const committed = await countCommitted(database.handle, allIds);
        const rowsAdded = rowsAfter - rowsBefore;
        const missing = allIds.length - committed;
        durability = {
          created: allIds.length,
          rowsAdded,
          missing,
          cutOff: tally.cutOff,
          ok: missing === 0 && rowsAdded >= allIds.length && rowsAdded <= allIds.length + tally.cutOff,
        };
      }
      measurements.push(tally.toMeasurement(mode, kind, durability));
    }
    return measurements;
  } finally {
    for (const server of servers.values()) await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Report

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => n.toFixed(1);
const pad = (s: string, n: number) => s.padStart(n);

function table(measurements: Measurement[]): string {
  const head = [
    '',
    'req/s',
    'p50 ms',
    'p97.5 ms',
    'p99 ms',
    'max ms',
    '2xx',
    'non-2xx',
    'errors',
    'CPU srv',
    'gen',
    'pg',
    'other',
  ];
  const widths = [16, 9, 7, 9, 7, 7, 9, 8, 7, 8, 5, 5, 6];
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : pad(c, widths[i]!))).join(' ');
  const out = [line(head), '-'.repeat(widths.reduce((a, b) => a + b + 1, -1))];
  const cpu = (n: number | null) => (n === null ? '—' : Math.max(0, n).toFixed(2));
  for (const m of measurements) {
    out.push(
      line([
        `${m.mode} ${m.kind}`,
        int(m.requestsPerSecond),
        ms(m.latencyMs.p50),
        ms(m.latencyMs.p97_5),
        ms(m.latencyMs.p99),
        ms(m.latencyMs.max),
        int(m.created),
        int(m.non2xx),
        int(m.errors),
        cpu(m.cpu.server),
        cpu(m.cpu.loadGenerator),
        cpu(m.cpu.postgres),
        cpu(m.cpu.other),
      ]),
    );
  }
  out.push('');
  for (const m of measurements) {
    // CPU time per request moves less with the machine's load than req/s does: the figure to compare across runs.
    const perRequest =
      m.cpu.server !== null && m.requestsPerSecond > 0
        ? `, server CPU ${int((m.cpu.server / m.requestsPerSecond) * 1e6)} µs a request`
        : '';
    out.push(
      `${`${m.mode} ${m.kind}`.padEnd(widths[0]!)} slices: ${m.sliceRequestsPerSecond.map(int).join(' / ')} req/s${perRequest}`,
    );
  }
  for (const mode of ['child', 'inproc'] as Mode[]) {
    const ratio = ratioFor(measurements, mode);
    if (ratio !== null) out.push(`${`${mode} envoi/bare`.padEnd(widths[0]!)} ${pad(ratio.toFixed(3), widths[1]!)}`);
  }
  return out.join('\n');
}

function ratioFor(measurements: Measurement[], mode: Mode): number | null {
  const envoi = measurements.find((m) => m.mode === mode && m.kind === 'envoi');
  const bare = measurements.find((m) => m.mode === mode && m.kind === 'bare');
  return envoi && bare && bare.requestsPerSecond > 0 ? envoi.requestsPerSecond / bare.requestsPerSecond : null;
}

interface Verdict {
  name: string;
  pass: boolean;
  detail: string;
}

function verdicts(measurements: Measurement[], mode: Mode): Verdict[] {
  const envoi = measurements.find((m) => m.mode === mode && m.kind === 'envoi');
  if (!envoi) return [];
  const out: Verdict[] = [
    {
      name: `accepted ≥ ${int(BUDGET.acceptedPerSecond)}/s`,
      pass: envoi.acceptedPerSecond >= BUDGET.acceptedPerSecond,
      detail: `${int(envoi.acceptedPerSecond)}/s (${int(envoi.created)} 201s in ${envoi.durationSeconds} s)`,
    },
    {
      name: `p99 < ${BUDGET.p99Ms} ms`,
      pass: envoi.latencyMs.p99 < BUDGET.p99Ms,
      detail: `${ms(envoi.latencyMs.p99)} ms`,
    },
  ];
  const ratio = ratioFor(measurements, mode);
  if (ratio !== null)
    out.push({ name: `envoi/bare ≥ ${BUDGET.ratio}`, pass: ratio >= BUDGET.ratio, detail: ratio.toFixed(3) });
  out.push({
    name: 'no non-2xx, no errors',
    pass: envoi.non2xx === 0 && envoi.errors === 0,
    detail:
      `${envoi.non2xx} non-2xx, ${envoi.errors} errors (${envoi.timeouts} timeouts)` +
      (envoi.sampleErrors.length ? `; e.g. ${envoi.sampleErrors[0]}` : ''),
  });
  const d = envoi.durability;
  if (d) {
    out.push({
      name: 'every 201 is a committed row',
      pass: d.ok,
      detail:
        `${int(d.created)} 201s (warm-up + run), ${int(d.created - d.missing)} of their ids in notifications; ` +
        `rows added ${int(d.rowsAdded)} = 201s + ${int(d.rowsAdded - d.created)} ` +
        `(${int(d.cutOff)} requests cut off in flight when the load stopped may each have committed)`,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Main

async function main(): Promise<void> {
  const settings = readSettings(process.argv.slice(2), process.env);
  const database = await openBenchDatabase(process.env, 'accept');
  const onSignal = () => {
    void database.dispose().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const secretKey = process.env.ENVOI_SECRET_KEY ?? randomBytes(32).toString('base64');
    const provisioned = await provisionBenchService(database.handle, secretKey);
    const serverOptions: ServerOptions = { databaseUrl: database.url, secretKey };

    const pgInfo = await sql<{ version: string; fsync: string; synchronous_commit: string }>`
      SELECT current_setting('server_version') AS version, current_setting('fsync') AS fsync,
             current_setting('synchronous_commit') AS synchronous_commit`.execute(database.handle.db);
    const pgSettings = pgInfo.rows[0]!;
    const cpus = os.cpus();
    console.log(
      `Envoi accept benchmark: POST /v2/notifications/email vs bare Fastify POST /bare\n` +
        `  ${settings.connections} connections, pipelining 1, JWT re-signed every second; per server ${settings.warmup} s warm-up, then ` +
        `${settings.duration} s measured in ${settings.rounds} slice${settings.rounds > 1 ? 's' : ''} of ${settings.sliceSeconds} s alternating with the other server\n` +
        `  ${cpus.length} × ${cpus[0]?.model.trim()}, node ${process.version}, PostgreSQL ${pgSettings.version} ` +
        `(fsync=${pgSettings.fsync}, synchronous_commit=${pgSettings.synchronous_commit})\n` +
        `  modes: ${settings.modes.map((m) => (m === 'child' ? 'child (server in its own process)' : 'inproc (server and autocannon share one process)')).join(', ')}\n`,
    );

    const measurements: Measurement[] = [];
    for (const mode of settings.modes) {
      process.stdout.write(`  measuring ${mode}: ${settings.kinds.join(' and ')} …`);
      const ms_ = await measureMode(mode, settings, database, provisioned, serverOptions);
      measurements.push(...ms_);
      const waited = ms_.reduce((t, m) => t + m.cpu.waitedForQuietSeconds, 0);
      process.stdout.write(
        ` ${ms_.map((m) => `${m.kind} ${int(m.requestsPerSecond)} req/s`).join(', ')}` +
          (waited > 0 ? ` (waited ${Math.round(waited)} s for quiet)` : '') +
          '\n',
      );
    }

    console.log(`\n${table(measurements)}\n`);
    console.log(
      '  CPU: cores used during the measured run (srv = server child; gen = autocannon process, in inproc mode server too;\n' +
        '  pg = local PostgreSQL processes; other = everything else on the machine).\n',
    );
    const noisy = measurements.filter((m) => m.cpu.other > 0.3);
    if (noisy.length) {
      console.log(
        `WARNING: other processes used ${noisy.map((m) => `${m.cpu.other.toFixed(2)} cores during ${m.mode} ${m.kind}`).join(', ')}\n` +
          `  of the ${os.cpus().length}: those figures are low and not comparable. Run again on a quiet machine.\n`,
      );
    }
    const primary: Mode = settings.modes.includes('child') ? 'child' : 'inproc';
    const results = verdicts(measurements, primary);
    console.log(`Budgets (DESIGN.md §4), from the ${primary} figures:`);
    for (const v of results) console.log(`  ${v.pass ? 'PASS' : 'FAIL'}  ${v.name}: ${v.detail}`);
    const otherMode: Mode | undefined = settings.modes.find((m) => m !== primary);
    if (otherMode) {
      console.log(`For comparison, the ${otherMode} figures:`);
      for (const v of verdicts(measurements, otherMode))
        console.log(`  ${v.pass ? 'pass' : 'fail'}  ${v.name}: ${v.detail}`);
    }

    mkdirSync(RESULTS_DIR, { recursive: true });
    const json = {
      date: new Date().toISOString(),
      machine: { cpus: cpus.length, model: cpus[0]?.model.trim(), memoryBytes: os.totalmem(), node: process.version },
      postgres: pgSettings,
      settings,
      budget: BUDGET,
      primaryMode: primary,
      measurements,
      ratios: Object.fromEntries(settings.modes.map((m) => [m, ratioFor(measurements, m)])),
      verdicts: { [primary]: results, ...(otherMode ? { [otherMode]: verdicts(measurements, otherMode) } : {}) },
      pass: results.every((v) => v.pass),
    };
    writeFileSync(`${RESULTS_DIR}latest.json`, `${JSON.stringify(json, null, 2)}\n`);
    console.log(
      `\nFigures written to bench/results/latest.json${settings.cpuProf ? '; CPU profiles in bench/results/profiles/' : ''}`,
    );
  } finally {
    await database.dispose();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
