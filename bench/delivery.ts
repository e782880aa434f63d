/**
 * Delivery benchmark (issue 3 §7, DESIGN.md §4), against real PostgreSQL and a local SMTP server in its own process:
 *
 *  1. Throughput: Envoi's worker (claim, render, send through nodemailer's pool, write the outcome) delivering
 *     notifications already queued, against raw nodemailer (the same pooled connections, TCP_NODELAY) sending the
 *     same messages to the same server, in alternating rounds after a warm-up round of each. Envoi is configured
 *     first as an operator starts it (EMAIL_PROVIDER=smtp, SMTP_URL, SMTP_POOL_SIZE and no WORKER_* setting), then
 *     with the worker tuned by hand (TUNED) for comparison. Budget, for the defaults: ≥ 2,000 emails/s and
 *     ≥ 0.7 × raw.
 *  2. Hand-off latency: under a steady API load at 500, 1,000 and 1,500 requests/s (or --rate), the requests evenly
 *     spaced (bench/paced-load.ts, not autocannon's burst at the top of each second), Envoi with its
 *     worker in one process (`envoi start`) and as two processes (`envoi api` beside `envoi worker`); for every
 *     accepted notification after the first 3 s (the processes' warm-up), sent_at − created_at (from 201 to the
 *     relay's 250). Envoi configured as an operator starts it, WORKER_* settings left to their defaults.
 *     Budget: p95 < 1 s.
 *  3. Receipt ingestion: SES delivery receipts for notifications in `sending`, (a) submitted to the receipt applier
 *     by 64 concurrent callers, one receipt each, as webhooks do, and (b) posted as signed SNS messages to
 *     POST /providers/ses of an Envoi server in its own process (signature verified, certificate from a local
 *     stand-in for SNS), over 64 connections. Budget: ≥ 5,000 status updates/s.
 *
 *   node --import tsx bench/delivery.ts [--messages 10000] [--rounds 3] [--rate N] [--seconds 10] [--quiet-wait 120]
 *                                       [--only throughput|handoff|receipts]
 *
 * Figures go to bench/results/delivery.json. Exits 0 once measured, even when a budget fails.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import nodemailer from 'nodemailer';
import { sql } from 'kysely';
import { loadConfig } from '../src/platform/config.ts';
import { createReceiptApplier } from '../src/notify/delivery/receipts/applier.ts';
import { sesEventReceipts } from '../src/notify/delivery/receipts/ses-events.ts';
import { startSnsPeer } from '../test/fixtures/sns/sns-peer.ts';
import type { DbHandle } from '../src/platform/database/connection.ts';
import { startWorker } from '../src/notify/delivery/worker.ts';
import { signToken } from '../src/notify/api/v2/jwt.ts';
import {
  emailPlainText,
  renderEmailBody,
  renderEmailDocument,
  renderEmailHtml,
  renderEmailSubject,
} from '../src/notify/template-language/index.ts';
import { cpuSeconds, sleep, waitForQuiet } from './machine.ts';
import {
  BENCH_CONTENT,
  BENCH_SUBJECT,
  openBenchDatabase,
  provisionBenchService,
  type BenchService,
} from './fixture.ts';
import { startServerChild } from './server.ts';
import { startSmtpSink, type SmtpSink } from './smtp-sink.ts';
import { pacedLoad } from './paced-load.ts';

const BUDGET = { emailsPerSecond: 2_000, ratio: 0.7, handoffP95Ms: 1_000, receiptsPerSecond: 5_000 } as const;
const SECRET_KEY = 'bench-secret-key-that-is-long-enough-0123456789';
const POOL = 20;
/** What an operator sets to send through an SMTP relay; every other setting is left to its default. */
const operatorEnv = (sink: SmtpSink) => ({
  EMAIL_PROVIDER: 'smtp',
  SMTP_URL: sink.url,
  SMTP_POOL_SIZE: String(POOL),
});
/** The worker tuned by hand, as the bench ran before the defaults delivered: shown beside the defaults. */
const TUNED = { WORKER_CONCURRENCY: '200', WORKER_BATCH_SIZE: '500', WORKER_POLL_MS: '20' } as const;
const RESULTS = fileURLToPath(new URL('./results/delivery.json', import.meta.url));

interface Options {
  messages: number;
  rounds: number;
  /** Hand-off: one offered rate (requests/s), or null for the curve RATES. */
  rate: number | null;
  seconds: number;
  quietWait: number;
  only: 'throughput' | 'handoff' | 'receipts' | null;
}

function readOptions(argv: string[]): Options {
  const opts: Options = { messages: 10_000, rounds: 3, rate: null, seconds: 10, quietWait: 120, only: null };
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--only' && ['throughput', 'handoff', 'receipts'].includes(argv[i + 1]!)) {
      opts.only = argv[i + 1] as Options['only'];
      continue;
    }
    const name = argv[i]!.replace(/^--/, '').replace(/-(\w)/g, (_, c: string) => c.toUpperCase()) as keyof Options;
    const value = Number(argv[i + 1]);
    if (!(name in opts) || !Number.isFinite(value) || value <= 0)
      throw new Error(`bad option ${argv[i]} ${argv[i + 1]}`);
    (opts as unknown as Record<string, number>)[name] = value;
  }
  return opts;
}

const personalisation = (i: number) => ({ name: `Person ${i}`, reference: `A-${String(i).padStart(7, '0')}` });

// ---------------------------------------------------------------------------------------------------------------
// 1. Throughput

/** Raw nodemailer: the same pooled connections and the same rendered message, sent as fast as the pool takes them. */
async function rawNodemailer(sink: SmtpSink, messages: number): Promise<number> {
  const transport = nodemailer.createTransport({
    pool: true,
    url: sink.url,
    maxConnections: POOL,
    maxMessages: Infinity,
  });
  const subject = renderEmailSubject(BENCH_SUBJECT, personalisation(0));
  const html = renderEmailDocument({
    subject,
    bodyHtml: renderEmailHtml(BENCH_CONTENT, personalisation(0)),
    lang: 'en',
  });
  const text = emailPlainText(renderEmailBody(BENCH_CONTENT, personalisation(0)));
  const started = performance.now();
  await Promise.all(
    Array.from({ length: messages }, (_, i) =>
      transport.sendMail({
        from: { name: 'Envoi bench', address: 'bench@notification.localhost' },
        to: `person${i}@example.gc.ca`,
        subject,
        text,
        html,
        messageId: `<${randomUUID()}@notification.localhost>`,
      }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  transport.close();
  return messages / seconds;
}

/** Queues `messages` notifications as the API would have stored them; the worker is not running yet. */
async function queueEmails(db: DbHandle, service: BenchService, messages: number): Promise<void> {
  for (let start = 0; start < messages; start += 5_000) {
    const n = Math.min(5_000, messages - start);
    const index = Array.from({ length: n }, (_, k) => start + k);
    const p = index.map(personalisation);
    await sql`
      INSERT INTO notifications (id, service_id, template_id, template_version, key_type, notification_type, "to",
                                 normalised_to, personalisation, subject, body)
      SELECT gen_random_uuid(), ${service.serviceId}, ${service.templateId}, 1, 'normal', 'email', t.addr, t.addr, t.p, t.subject, t.body
      FROM unnest(${index.map((i) => `person${i}@example.gc.ca`)}::text[], ${p.map((x) => JSON.stringify(x))}::jsonb[],
                  ${p.map((x) => renderEmailSubject(BENCH_SUBJECT, x))}::text[], ${p.map((x) => renderEmailBody(BENCH_CONTENT, x))}::text[])
        AS t(addr, p, subject, body)`.execute(db.db);
  }
}

async function undelivered(db: DbHandle, serviceId: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM notifications WHERE service_id = ${serviceId} AND status = 'created'`.execute(db.db);
  return rows[0]!.n;
}

/** Cores the worker's process used during the last envoiWorker() run: near 1 means it is the bottleneck. */
let lastWorkerCores = 0;

/**
 * Envoi's worker delivering `messages` queued notifications, configured as an operator would plus `tuning`;
 * emails/s from its start to the last outcome written.
 */
async function envoiWorker(
  { db, dbUrl, service, sink }: Context,
  messages: number,
  tuning: Record<string, string> = {},
): Promise<number> {
  await queueEmails(db, service, messages);
  const config = loadConfig({
    DATABASE_URL: dbUrl,
    ENVOI_SECRET_KEY: SECRET_KEY,
    ...operatorEnv(sink),
    ...tuning,
    ENVOI_EMAIL_DOMAIN: 'notification.localhost',
    LOG_LEVEL: 'silent',
  });
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  const worker = startWorker({ db: db.db, config });
  // drain() resolves once nothing is due and nothing is in flight: no polling query competes with the worker.
  await worker.drain();
  while ((await undelivered(db, service.serviceId)) > 0) await worker.drain();
  const seconds = (performance.now() - started) / 1000;
  lastWorkerCores = cpuSeconds(cpu0, process.cpuUsage()) / seconds;
  await worker.stop();
  return messages / seconds;
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Hand-off latency under load

interface Handoff {
  accepted: number;
  acceptedPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** How the roles run: `envoi start` (API and worker in one process) or `envoi api` beside `envoi worker`. */
type Roles = 'one process' | 'separate processes';

/** Hand-off latency is measured at these offered rates, below and up to what one worker delivers to the relay. */
const RATES = [500, 1_000, 1_500];
const WARMUP_SECONDS = 3;

async function handoffLatency(
  db: DbHandle,
  dbUrl: string,
  service: BenchService,
  sink: SmtpSink,
  opts: Options,
  roles: Roles,
  rate: number,
): Promise<Handoff> {
  const settings = {
    databaseUrl: dbUrl,
    secretKey: SECRET_KEY,
    env: operatorEnv(sink),
  };
  const server = await startServerChild(roles === 'one process' ? 'envoi+worker' : 'envoi', settings);
  const worker = roles === 'one process' ? null : await startServerChild('worker', settings);
  try {
    // A fresh token each second keeps iat within Notify's ±30 s.
    const headers = () => ({
      'content-type': 'application/json',
      authorization: `Bearer ${signToken(service.serviceId, service.secret)}`,
    });
    const body = JSON.stringify({
      email_address: 'person@example.gc.ca',
      template_id: service.templateId,
      personalisation: personalisation(1),
    });
    const offer = async (seconds: number) => {
      const result = await pacedLoad({
        url: `http://127.0.0.1:${server.port}/v2/notifications/email`,
        rate,
        seconds,
        connections: 32,
        body,
        headers,
      });
      if (result.failed > 0)
        throw new Error(`hand-off at ${rate}/s: ${result.failed} of ${result.sent} requests failed`);
      for (let i = 0; i < 600 && (await undelivered(db, service.serviceId)) > 0; i++) await sleep(100);
      return result;
    };
    // Warm-up, not measured: processes just started (JIT, connections, caches), as a running Envoi is not.
    await offer(WARMUP_SECONDS);
    const since = new Date();
    const result = await offer(opts.seconds);
    const { rows } = await sql<{ n: number; p50: number; p95: number; p99: number; max: number }>`
      SELECT count(*)::int AS n,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
             percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) AS p95,
             percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99,
             max(ms) AS max
      FROM (SELECT extract(epoch FROM sent_at - created_at) * 1000 AS ms FROM notifications
            WHERE service_id = ${service.serviceId} AND created_at >= ${since} AND sent_at IS NOT NULL) AS t`.execute(
      db.db,
    );
    const r = rows[0]!;
    return {
      accepted: r.n,
      acceptedPerSecond: Math.round(result.answeredPerSecond),
      p50: Math.round(r.p50),
      p95: Math.round(r.p95),
      p99: Math.round(r.p99),
      max: Math.round(r.max),
    };
  } finally {
    await server.stop();
    await worker?.stop();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Receipts

/** `count` notifications as the worker leaves them once SES took them: `sending`, with SES's message id. */
async function sentEmails(db: DbHandle, service: BenchService, count: number): Promise<string[]> {
  const references = Array.from({ length: count }, () => randomUUID());
  for (let i = 0; i < count; i += 5_000) {
    const chunk = references.slice(i, i + 5_000);
    await sql`
      INSERT INTO notifications (id, service_id, template_id, template_version, key_type, notification_type, "to",
                                 normalised_to, subject, body, status, provider, provider_reference, sent_at)
      SELECT gen_random_uuid(), ${service.serviceId}, ${service.templateId}, 1, 'normal', 'email', 'r@example.gc.ca',
             'r@example.gc.ca', 'Hello', 'Hello', 'sending', 'ses', ref, now()
      FROM unnest(${chunk}::text[]) AS ref`.execute(db.db);
  }
  return references;
}

function sesDelivery(reference: string) {
  return {
    eventType: 'Delivery',
    mail: {
      timestamp: new Date().toISOString(),
      messageId: reference,
      source: 'bench@notification.localhost',
      destination: ['r@example.gc.ca'],
    },
    delivery: { timestamp: new Date().toISOString(), recipients: ['r@example.gc.ca'], smtpResponse: '250 2.0.0 OK' },
  };
}

async function deliveredCount(db: DbHandle, serviceId: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM notifications WHERE service_id = ${serviceId} AND status = 'delivered' AND provider = 'ses'`.execute(
    db.db,
  );
  return rows[0]!.n;
}

async function applierRate(db: DbHandle, service: BenchService, count: number): Promise<number> {
  const references = await sentEmails(db, service, count);
  const applier = createReceiptApplier(db.db);
  const before = await deliveredCount(db, service.serviceId);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < references.length) {
        const reference = references[next++]!;
        await applier.submit(sesEventReceipts(sesDelivery(reference), new Date()));
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await applier.close();
  const applied = (await deliveredCount(db, service.serviceId)) - before;
  if (applied !== count) throw new Error(`applier: ${applied} of ${count} receipts applied`);
  return count / seconds;
}

/** Cores the server's process used during the last hookRate() run. */
let lastHookCores = 0;

async function hookRate(
  db: DbHandle,
  dbUrl: string,
  service: BenchService,
  count: number,
  warmup: number,
): Promise<number> {
  const references = await sentEmails(db, service, warmup + count);
  const peer = await startSnsPeer();
  // Signing is SNS's work, not Envoi's: done before the clock starts.
  const bodies = references.map((reference) => JSON.stringify(peer.message({ message: sesDelivery(reference) })));
  // The server in a process of its own, as in the accept benchmark: autocannon does not share its event loop.
  const server = await startServerChild('envoi', { databaseUrl: dbUrl, secretKey: SECRET_KEY, localSns: true });
  let next = 0;
  // autocannon ends an `amount` run at its next one-second tick, not at the last answer: timed by that, 20,000
  // receipts answered in 3.05 s counted as 4 s (4,980/s instead of 6,560/s).
  let lastAnswer = 0;
  const post = (amount: number) =>
    autocannon({
      url: `http://127.0.0.1:${server.port}`,
      // As many connections as the accept benchmark: SNS delivers to an HTTPS subscription with many at once.
      connections: 64,
      amount,
      requests: [
        {
          method: 'POST',
          path: '/providers/ses',
          headers: { 'content-type': 'text/plain; charset=UTF-8' },
          setupRequest: (req) => ({ ...req, body: bodies[next++] }),
          onResponse: () => void (lastAnswer = performance.now()),
        },
      ],
    });
  try {
    // Warm-up, not measured: JIT, connections, and each database connection's plan of the receipt statement.
    const warm = await post(warmup);
    if (warm.non2xx + warm.errors > 0)
      throw new Error(`receipt hook warm-up: ${warm.non2xx + warm.errors} requests failed`);
    const before = await deliveredCount(db, service.serviceId);
    const cpu0 = await server.cpu();
    const started = performance.now();
    const result = await post(count);
    const seconds = (lastAnswer - started) / 1000;
    lastHookCores = cpuSeconds(cpu0!, (await server.cpu())!) / ((performance.now() - started) / 1000);
    const non2xx = result.non2xx + result.errors;
    if (non2xx > 0) throw new Error(`receipt hook: ${non2xx} requests failed`);
    const applied = (await deliveredCount(db, service.serviceId)) - before;
    if (applied !== count) throw new Error(`receipt hook: ${applied} of ${count} receipts applied`);
    return count / seconds;
  } finally {
    await server.stop();
    await peer.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------

interface Context {
  db: DbHandle;
  dbUrl: string;
  service: BenchService;
  sink: SmtpSink;
  opts: Options;
}

async function measureThroughput(context: Context): Promise<object> {
  const { sink, opts } = context;
  console.log(
    `Envoi delivery benchmark: ${opts.messages.toLocaleString('en')} emails a round to a local SMTP server, ${POOL} pooled connections\n` +
      `  Envoi as an operator starts it: EMAIL_PROVIDER=smtp, SMTP_URL, SMTP_POOL_SIZE=${POOL}, WORKER_* left to their defaults;\n` +
      `  tuned: ${Object.entries(TUNED)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}`,
  );
  // Warm-up: JIT, connections, the template cache. A round's worth: with less, the first round measured was the
  // slowest (Envoi 1,215/s against 1,420–1,448/s in the next two, the same day).
  await rawNodemailer(sink, opts.messages);
  await envoiWorker(context, opts.messages);
  const raw: number[] = [];
  const envoi: number[] = [];
  const tuned: number[] = [];
  const cores = { envoi: [] as number[], tuned: [] as number[] };
  for (let round = 1; round <= opts.rounds; round++) {
    const quiet = await waitForQuiet(opts.quietWait);
    if (quiet.otherCores >= 0.3)
      console.log(`  (other processes were using ${quiet.otherCores} cores: figures are low)`);
    raw.push(await rawNodemailer(sink, opts.messages));
    envoi.push(await envoiWorker(context, opts.messages));
    cores.envoi.push(lastWorkerCores);
    tuned.push(await envoiWorker(context, opts.messages, TUNED));
    cores.tuned.push(lastWorkerCores);
    const r = (xs: number[]) => Math.round(xs.at(-1)!);
    console.log(
      `  round ${round}: raw nodemailer ${r(raw)} emails/s; Envoi, defaults ${r(envoi)} emails/s (${(r(envoi) / r(raw)).toFixed(2)} × raw, ` +
        `${cores.envoi.at(-1)!.toFixed(2)} cores); Envoi, tuned ${r(tuned)} emails/s (${(r(tuned) / r(raw)).toFixed(2)} × raw, ${cores.tuned.at(-1)!.toFixed(2)} cores)`,
    );
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const rawRate = Math.round(mean(raw));
  const envoiRate = Math.round(mean(envoi));
  const tunedRate = Math.round(mean(tuned));
  const ratio = Math.round((envoiRate / rawRate) * 1000) / 1000;
  const tunedRatio = Math.round((tunedRate / rawRate) * 1000) / 1000;
  const sent = await sink.count();
  console.log(
    `  mean: raw ${rawRate}/s; Envoi, defaults ${envoiRate}/s, ratio ${ratio}; Envoi, tuned ${tunedRate}/s, ratio ${tunedRatio} ` +
      `(the server took ${sent.toLocaleString('en')} messages in all)`,
  );
  console.log(
    `  ${envoiRate >= BUDGET.emailsPerSecond ? 'PASS' : 'FAIL'}  ≥ ${BUDGET.emailsPerSecond} emails/s with the defaults: ${envoiRate}`,
  );
  console.log(
    `  ${ratio >= BUDGET.ratio ? 'PASS' : 'FAIL'}  ≥ ${BUDGET.ratio} × raw nodemailer with the defaults: ${ratio}`,
  );
  return {
    raw,
    envoi,
    rawRate,
    envoiRate,
    ratio,
    tuned: { settings: TUNED, rates: tuned, rate: tunedRate, ratio: tunedRatio },
    cores,
  };
}

async function measureHandoff({ db, dbUrl, service, sink, opts }: Context): Promise<object> {
  const results: Array<Handoff & { rate: number; roles: Roles }> = [];
  console.log(
    `\nHand-off latency, 201 → relay's 250, each rate offered for ${opts.seconds} s (${POOL} SMTP connections):`,
  );
  for (const rate of opts.rate === null ? RATES : [opts.rate]) {
    for (const roles of ['one process', 'separate processes'] as const) {
      await waitForQuiet(opts.quietWait);
      const handoff = await handoffLatency(db, dbUrl, service, sink, opts, roles, rate);
      results.push({ rate, roles, ...handoff });
      console.log(
        `  ${handoff.p95 < BUDGET.handoffP95Ms ? 'PASS' : 'FAIL'}  ${rate}/s, API and worker in ${roles === 'one process' ? 'one process (envoi start)     ' : 'two processes (api + worker)'}: ` +
          `${handoff.accepted.toLocaleString('en')} accepted; p50 ${handoff.p50} ms, p95 ${handoff.p95} ms, p99 ${handoff.p99} ms, max ${handoff.max} ms (budget p95 < ${BUDGET.handoffP95Ms} ms)`,
      );
    }
  }
  return results;
}

async function measureReceipts({ db, dbUrl, service, opts }: Context): Promise<object> {
  await waitForQuiet(opts.quietWait);
  const applier = Math.round(await applierRate(db, service, 20_000));
  await waitForQuiet(opts.quietWait);
  const hook = Math.round(await hookRate(db, dbUrl, service, 20_000, 3_000));
  console.log(
    `\nReceipt ingestion (SES delivery events, one per request):\n` +
      `  receipt applier, 64 concurrent callers: ${applier} status updates/s\n` +
      `  POST /providers/ses, signed SNS messages, 64 connections, 20,000 after 3,000 to warm up (server in its own process, ${lastHookCores.toFixed(2)} cores): ${hook} status updates/s\n` +
      `  ${hook >= BUDGET.receiptsPerSecond ? 'PASS' : 'FAIL'}  ≥ ${BUDGET.receiptsPerSecond} status updates/s through the hook: ${hook}`,
  );
  return { applier, hook, hookServerCores: lastHookCores };
}

const PARTS = { throughput: measureThroughput, handoff: measureHandoff, receipts: measureReceipts } as const;

async function main(argv: string[]): Promise<void> {
  const opts = readOptions(argv);
  const bench = await openBenchDatabase({}, 'delivery', 20);
  const sink = await startSmtpSink();
  const results: Record<string, unknown> = { date: new Date().toISOString(), options: opts, budget: BUDGET };
  try {
    const context: Context = {
      db: bench.handle,
      dbUrl: bench.url,
      service: await provisionBenchService(bench.handle, SECRET_KEY),
      sink,
      opts,
    };
    for (const [name, measure] of Object.entries(PARTS)) {
      if (opts.only === null || opts.only === name) results[name] = await measure(context);
    }
  } finally {
    await sink.stop();
    await bench.dispose();
  }
  mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
