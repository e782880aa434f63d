/**
 * Envoi's Prometheus metrics, and the small listener that serves them (GET /metrics) when METRICS_PORT is set.
 *
 * Every metric is defined here once, on prom-client's default registry; Node's process metrics (CPU, memory,
 * event-loop lag, GC) join them under the same `envoi_` prefix once the listener starts. Labels carry only bounded values (channel,
 * key type, route pattern, provider name, status): never a service id, an email address or a phone number, both
 * for privacy and because each label value makes a time series.
 *
 * Hot paths count through children bound once per label set (`accepted`, `childOf`), not `inc({...})` with a
 * fresh object per call. Some gauges are worked out on scrape from sources that the roles register: the queue's age,
 * the callback backlog and the provider in use by the worker (a process without one, `envoi api`, leaves them
 * without a value), and whether the database answers by every role.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, collectDefaultMetrics, register } from 'prom-client';
import type { Logger } from './queue/background.ts';
import { withinMs } from './time-limit.ts';

type Channel = 'email' | 'sms';
type KeyType = 'normal' | 'team' | 'test';

/** Age in seconds of the oldest due, unclaimed notification per lane (0 when none); the worker's database answers it. */
export type QueueAgeSource = () => Promise<Record<string, number>>;

/** The callbacks waiting to be delivered (capped count), and how long the oldest due one has waited (0 when none). */
export type CallbackBacklogSource = () => Promise<{ pending: number; oldestDueSeconds: number }>;

/** Resolves when the database answers a trivial query; rejects otherwise. */
export type DatabasePing = () => Promise<unknown>;

/** The providers of one channel, in order, and which of them takes the channel's traffic now. */
export interface ProviderSource {
  channel: Channel;
  names: readonly string[];
  inUse(): string;
}

interface EnvoiMetrics {
  httpRequests: Counter<'method' | 'route' | 'status_code'>;
  httpDuration: Histogram<'method' | 'route'>;
  accepted: Counter<'channel' | 'key_type'>;
  deliveries: Counter<'channel' | 'provider' | 'status'>;
  handoff: Histogram<'channel'>;
  queueOldestDue: Gauge<'lane'>;
  callbacksPending: Gauge;
  callbacksOldestDue: Gauge;
  databaseUp: Gauge;
  jobsEnded: Counter<'status'>;
  receipts: Counter<'result'>;
  callbacks: Counter<'kind' | 'result'>;
  providerActive: Gauge<'channel' | 'provider'>;
  queueAgeSources: Map<QueueAgeSource, Logger | undefined>;
  callbackSources: Map<CallbackBacklogSource, Logger | undefined>;
  databasePings: Set<DatabasePing>;
  providerSources: Set<ProviderSource>;
}

/** How long the scrape waits for the database before leaving a value out: a stuck database must not hang scrapes. */
const SCRAPE_QUERY_TIMEOUT_MS = 3_000;

function defineMetrics(): EnvoiMetrics {
  const queueAgeSources = new Map<QueueAgeSource, Logger | undefined>();
  const callbackSources = new Map<CallbackBacklogSource, Logger | undefined>();
  const databasePings = new Set<DatabasePing>();
  const providerSources = new Set<ProviderSource>();
  const callbackBacklog = scrapedOnce(callbackSources, 'the callback backlog');
  return {
    httpRequests: new Counter({
      name: 'envoi_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern ("unmatched" when no route matched) and status code.',
      labelNames: ['method', 'route', 'status_code'],
    }),
    httpDuration: new Histogram({
      name: 'envoi_http_request_duration_seconds',
      help: 'Time from receiving an HTTP request to sending its answer, by method and route pattern.',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    }),
    accepted: new Counter({
      name: 'envoi_notifications_accepted_total',
      help: 'Notifications committed to the queue (single sends once their row is committed, bulk jobs once their rows are), by channel and API key type.',
      labelNames: ['channel', 'key_type'],
    }),
    deliveries: new Counter({
      name: 'envoi_deliveries_total',
      help:
        'Outcomes the delivery worker recorded, by channel, provider ("none" when no provider was called) and status: ' +
        'delivered, sending, permanent-failure, technical-failure, retry, throttled. Test keys are not counted.',
      labelNames: ['channel', 'provider', 'status'],
    }),
    handoff: new Histogram({
      name: 'envoi_handoff_seconds',
      help: 'Time from a notification being created (or its scheduled time) to the provider taking it, by channel.',
      labelNames: ['channel'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    }),
    queueOldestDue: new Gauge({
      name: 'envoi_queue_oldest_due_seconds',
      help: 'How long the oldest notification that is due and not claimed by a worker has been waiting, by lane (high, normal, bulk); 0 when none. Only from processes running the worker.',
      labelNames: ['lane'],
      async collect() {
        await collectQueueAge(this, queueAgeSources);
      },
    }),
    callbacksPending: new Gauge({
      name: 'envoi_callbacks_pending',
      help: "Callbacks to services' receivers not yet delivered, failed or dropped (waiting for a retry or due), counted up to 100000. Only from processes running the worker.",
      async collect() {
        const backlog = await callbackBacklog();
        if (backlog) this.set(backlog.pending);
        else this.remove();
      },
    }),
    callbacksOldestDue: new Gauge({
      name: 'envoi_callbacks_oldest_due_seconds',
      help: 'How long the oldest callback that is due and not claimed has been waiting; 0 when none. Only from processes running the worker.',
      async collect() {
        const backlog = await callbackBacklog();
        if (backlog) this.set(backlog.oldestDueSeconds);
        else this.remove();
      },
    }),
    databaseUp: new Gauge({
      name: 'envoi_database_up',
      help: 'Whether this process reached its database at the scrape: 1 when a trivial query answered within 3 s, 0 otherwise.',
      async collect() {
        const ping = databasePings.values().next();
        if (ping.done) return this.remove();
        this.set(
          await withTimeout(ping.value()).then(
            () => 1,
            () => 0,
          ),
        );
      },
    }),
    jobsEnded: new Counter({
      name: 'envoi_jobs_ended_total',
      help: 'Bulk jobs whose processing ended, by status: finished (every row queued) or error (it failed on its last attempt and none of its rows were sent).',
      labelNames: ['status'],
    }),
    receipts: new Counter({
      name: 'envoi_receipts_total',
      help:
        'Provider receipts (delivery, bounce and complaint events) by result: applied; ignored (malformed, for an ' +
        'unknown notification, or for one already final); waiting (its notification not found yet: tried again).',
      labelNames: ['result'],
    }),
    callbacks: new Counter({
      name: 'envoi_callbacks_total',
      help: "Callbacks to services' receivers by kind and result: delivered, retry, failed, disabled (410 Gone), dropped (callback removed or subject deleted).",
      labelNames: ['kind', 'result'],
    }),
    providerActive: new Gauge({
      name: 'envoi_provider_active',
      help: "1 for the provider that takes the channel's traffic now, 0 for the others (failover). Only from processes running the worker.",
      labelNames: ['channel', 'provider'],
      collect() {
        this.reset();
        for (const source of providerSources) {
          const inUse = source.inUse();
          for (const name of source.names) this.labels(source.channel, name).set(name === inUse ? 1 : 0);
        }
      },
    }),
    queueAgeSources,
    callbackSources,
    databasePings,
    providerSources,
  };
}

/** Rejects after SCRAPE_QUERY_TIMEOUT_MS if `work` has not settled by then. */
const withTimeout = <T>(work: Promise<T>): Promise<T> => withinMs(work, SCRAPE_QUERY_TIMEOUT_MS);

/**
 * Asks the first registered source once per scrape, however many gauges read its answer: the gauges of one
 * scrape are collected together, so they share the one query. Undefined when there is no source or it failed.
 */
function scrapedOnce<T>(sources: Map<() => Promise<T>, Logger | undefined>, what: string) {
  let inFlight: Promise<T | undefined> | null = null;
  return (): Promise<T | undefined> => {
    if (inFlight) return inFlight;
    const first = sources.entries().next();
    if (first.done) return Promise.resolve(undefined);
    const [source, log] = first.value;
    inFlight = withTimeout(source())
      .catch((err: unknown) => {
        log?.warn({ err }, `could not measure ${what} for /metrics`);
        return undefined;
      })
      .finally(() => {
        inFlight = null;
      });
    return inFlight;
  };
}

async function collectQueueAge(gauge: Gauge<'lane'>, sources: Map<QueueAgeSource, Logger | undefined>): Promise<void> {
  // Any one worker of this process answers for the whole queue (it is one table).
  const first = sources.entries().next();
  if (first.done) {
    gauge.reset();
    return;
  }
  const [source, log] = first.value;
  try {
    const ages = await withTimeout(source());
    gauge.reset();
    for (const [lane, age] of Object.entries(ages)) gauge.labels(lane).set(age);
  } catch (err) {
    // The scrape still answers with everything else; an absent value says "unknown" rather than a wrong 0.
    gauge.reset();
    log?.warn({ err }, 'could not measure the age of the oldest due notification for /metrics');
  }
}

// Kept on the registry itself: a module imported again (tests) finds the metrics its registry already holds.
const KEY = Symbol.for('envoi.metrics');
const holder = register as unknown as Record<symbol, EnvoiMetrics | undefined>;
const metrics: EnvoiMetrics = holder[KEY] ?? (holder[KEY] = defineMetrics());

export const { httpRequests, httpDuration, deliveries, handoff: handoffSeconds, callbacks: callbacksTotal } = metrics;

/** Counters of accepted notifications, one bound child per channel and key type, for the accept path. */
export const notificationsAccepted: Record<Channel, Record<KeyType, { inc(n?: number): void }>> = {
  email: bound('email'),
  sms: bound('sms'),
};

function bound(channel: Channel): Record<KeyType, { inc(n?: number): void }> {
  const child = (keyType: KeyType) => atZero(metrics.accepted.labels(channel, keyType));
  return { normal: child('normal'), team: child('team'), test: child('test') };
}

/** Receipts by result, for the receipt applier. */
export const receiptResults = {
  applied: atZero(metrics.receipts.labels('applied')),
  ignored: atZero(metrics.receipts.labels('ignored')),
  waiting: atZero(metrics.receipts.labels('waiting')),
};

/** A counter shown from the start at 0, so that a rate over its first events is not lost. */
function atZero<C extends { inc(n?: number): void }>(counter: C): C {
  counter.inc(0);
  return counter;
}

/**
 * A cache of a metric's children by label values, so that a hot path binds each label set once. The label
 * values must come from small fixed sets (route patterns, statuses), or the cache grows with them.
 */
export function childOf<C>(labels: (...values: string[]) => C): (...values: string[]) => C {
  const children = new Map<string, C>();
  return (...values) => {
    const key = values.join('\u0000');
    let child = children.get(key);
    if (child === undefined) {
      child = labels(...values);
      children.set(key, child);
    }
    return child;
  };
}

/** Makes the queue's age part of this process's scrapes until the returned function is called. */
export function measureQueueAge(source: QueueAgeSource, log?: Logger): () => void {
  metrics.queueAgeSources.set(source, log);
  return () => metrics.queueAgeSources.delete(source);
}

/** Makes the callback backlog part of this process's scrapes until the returned function is called. */
export function measureCallbackBacklog(source: CallbackBacklogSource, log?: Logger): () => void {
  metrics.callbackSources.set(source, log);
  return () => metrics.callbackSources.delete(source);
}

/** Makes `envoi_database_up` part of this process's scrapes until the returned function is called. */
export function measureDatabase(ping: DatabasePing): () => void {
  metrics.databasePings.add(ping);
  return () => metrics.databasePings.delete(ping);
}

/** Bulk jobs by how they ended, for the job processor. */
export const jobsEnded = {
  finished: atZero(metrics.jobsEnded.labels('finished')),
  error: atZero(metrics.jobsEnded.labels('error')),
};

/** Makes a channel's provider in use part of this process's scrapes until the returned function is called. */
export function reportProviders(source: ProviderSource): () => void {
  metrics.providerSources.add(source);
  return () => metrics.providerSources.delete(source);
}

/** The Prometheus text of every metric, and its content type. */
export async function scrape(): Promise<{ contentType: string; body: string }> {
  return { contentType: register.contentType, body: await register.metrics() };
}

export interface MetricsServer {
  /** The address it listens on, e.g. http://127.0.0.1:9464/metrics */
  url: string;
  port: number;
  close(): Promise<void>;
}

const PROCESS_METRICS = Symbol.for('envoi.processMetrics');

/**
 * Node's own metrics, once per process and only where they are served: a process without the listener (a bench,
 * a CLI command) does not pay for their GC observer and event-loop timer.
 */
function collectProcessMetrics(): void {
  const flags = register as unknown as Record<symbol, boolean | undefined>;
  if (flags[PROCESS_METRICS]) return;
  flags[PROCESS_METRICS] = true;
  collectDefaultMetrics({ prefix: 'envoi_' });
}

/**
 * A listener of its own for GET /metrics, apart from the API, so that metrics never share the public port and
 * each process (API or worker) is scraped on its own. Rejects with the listen error (EADDRINUSE…) as it is.
 */
export function startMetricsServer(opts: { port: number; host: string; logger?: Logger }): Promise<MetricsServer> {
  collectProcessMetrics();
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n');
      return;
    }
    scrape().then(
      ({ contentType, body }) => {
        response.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
        response.end(request.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        opts.logger?.error({ err }, 'could not collect metrics');
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('Could not collect metrics\n');
      },
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      server.on('error', (err) => opts.logger?.error({ err }, 'metrics listener error'));
      const { port } = server.address() as AddressInfo;
      const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
      resolve({
        url: `http://${host}:${port}/metrics`,
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            // A scraper's keep-alive connection would hold close() open.
            server.closeAllConnections();
          }),
      });
    });
  });
}
