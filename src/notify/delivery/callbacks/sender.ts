/**
 * Sends the callbacks queued in callback_deliveries (repositories/callback-deliveries.ts queues them in the
 * statement that changes a status) to services' receivers: a queue entry of the catalogue, claimed and leased by the
 * queue runner (platform/queue/runner.ts) like the delivery worker.
 *
 * Each service has a lane (lanes.ts): at most callbacks.perServiceConcurrency requests in flight, and a short
 * local backlog of claimed rows waiting for a slot. A service whose lane is full is left out of the next claims, so
 * a slow or dead receiver holds back only its own service's callbacks; a row that waits too long in a lane is given
 * back untried before its lease could run out.
 *
 * Outcomes: 2xx → delivered. Connection errors, timeouts, 429 and 5xx are retried with exponential backoff and
 * jitter (1, 2, 4, 8, 16 … minutes) until callbacks.maxAttempts, then failed. 410 Gone fails the row, disables the
 * callback and drops its other pending rows. Other answers (3xx included: redirects are never followed) and
 * addresses Envoi may not reach fail at once. A row whose callback was removed or disabled, or whose subject
 * retention has deleted, is dropped.
 */
import type { Config } from '../../../platform/config.ts';
import type { Db } from '../../../platform/database/connection.ts';
import type { Logger } from '../../../platform/queue/background.ts';
import type { Fenced } from '../../../platform/queue/claim-queue.ts';
import {
  type QueueControl,
  type QueueHandler,
  type QueueWork,
  type Running,
  runQueue,
} from '../../../platform/queue/runner.ts';
import type { SecretBox } from '../../../platform/secret-box.ts';
import { measureCallbackBacklog } from '../../../platform/metrics.ts';
import { CALLBACK_QUEUE, callbackBacklog, callbackQueueExcluding } from '../../repositories/callback-deliveries.ts';
import { createOutboundHttp } from './outbound-http.ts';
import { createLanes } from './lanes.ts';
import { type ClaimedCallback, type Prepared, prepare } from './preparing.ts';
import { type CallbackOutcome, createCallbackOutcomes, disableCallback, finalFor } from './recording.ts';
import { describe, judge, LONGEST_RETRY_AFTER_MS, short } from './responses.ts';
import { callbackHeaders } from './signing.ts';

export interface CallbackSenderOptions {
  db: Db;
  config: Config;
  secrets: SecretBox;
  logger?: Logger;
  /** Delay before the next try after `attempts` failed ones; defaults to callbackRetryDelayMs. */
  retryDelayMs?: (attempts: number) => number;
}

/** Stops claiming, lets requests in flight finish and records them, gives back rows not yet tried; drain() waits. */
export type CallbackSender = Running;

const MINUTE_MS = 60_000;

/**
 * 1, 2, 4, 8, 16 … minutes (capped at an hour), each stretched by up to a fifth at random so that callbacks that
 * failed together (a receiver's outage) do not all come back in the same instant. With the default 6 attempts the
 * tries span at least 31 minutes.
 */
export function callbackRetryDelayMs(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(60 * MINUTE_MS, MINUTE_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (1 + random() / 5));
}

/** Requests in flight plus rows waiting in lanes, over all services: bounds memory and sockets. */
const MAX_HELD = 1_000;
/** The callback sender's catalogue entry. */
export function callbackWork(opts: CallbackSenderOptions): QueueWork<ClaimedCallback> {
  const { timeoutMs, maxAttempts } = opts.config.callbacks;
  const retryDelayMs = opts.retryDelayMs ?? ((attempts: number) => callbackRetryDelayMs(attempts));
  return {
    kind: 'queue',
    name: 'callback sender',
    rows: 'callbacks',
    lookups: 'callback settings or payloads',
    table: CALLBACK_QUEUE,
    // A row is sent at most half a lease after its claim; the lease must outlast the request's timeout.
    leaseSeconds: Math.max(opts.config.worker.leaseSeconds, Math.ceil((timeoutMs * 3) / 1000)),
    batchSize: opts.config.worker.batchSize,
    // Per service it is callbacks.perServiceConcurrency, enforced by the lanes.
    concurrency: MAX_HELD,
    retries: { maxAttempts, delayMs: (attempts) => retryDelayMs(attempts) },
    pollMs: opts.config.worker.pollMs,
    handler: (control) => callbackHandler(opts, control),
  };
}

/** Starts the callback sender on its own (tests); a process starts it with the rest of the catalogue. */
export function startCallbackSender(opts: CallbackSenderOptions): CallbackSender {
  return runQueue(callbackWork(opts), { db: opts.db, logger: opts.logger });
}

function callbackHandler(
  opts: CallbackSenderOptions,
  control: QueueControl<ClaimedCallback>,
): QueueHandler<ClaimedCallback> {
  const { db, config, secrets } = opts;
  const log = opts.logger;
  const { timeoutMs, maxAttempts, perServiceConcurrency, allowedHosts } = config.callbacks;
  const outbound = createOutboundHttp({ timeoutMs, allowedHosts });
  const outcomes = createCallbackOutcomes(db, CALLBACK_QUEUE, log);
  const lanes = createLanes({ perServiceConcurrency, control, send, log });
  const unmeasure = measureCallbackBacklog(() => callbackBacklog(db), log);

  /** `retryAfterMs`: the receiver asked to wait at least that long (429 or 503 with Retry-After). */
  function failedAttempt(row: ClaimedCallback, response: string, retryAfterMs?: number): CallbackOutcome {
    const retry = control.retry(row, short(response), Math.min(retryAfterMs ?? 0, LONGEST_RETRY_AFTER_MS));
    return retry ? { retry } : finalFor(row, 'failed', `gave up after ${row.attempts} attempts: ${response}`);
  }

  async function send(prepared: Prepared): Promise<void> {
    const { row } = prepared;
    if ('drop' in prepared.send) return outcomes.record(row, finalFor(row, 'dropped', prepared.send.drop));
    if ('fail' in prepared.send) return outcomes.record(row, failedAttempt(row, prepared.send.fail));
    const { setting, body } = prepared.send;
    const headers = callbackHeaders({
      id: row.id,
      body,
      bearerToken: setting.bearerToken,
      webhookSecret: setting.webhookSecret,
    });
    const result = await outbound.post(setting.url, headers, body);
    const outcome = judge(result);
    if (outcome === 'gone') {
      // Before the lane's slot is freed, so no other row of this callback starts meanwhile.
      await disableCallback(db, row, setting.url, log);
      lanes.forget(row.service_id, row.callback_type);
      return outcomes.record(row, finalFor(row, 'failed', describe(result)), true);
    }
    if (outcome === 'delivered') return outcomes.record(row, finalFor(row, 'delivered', describe(result)));
    if (outcome === 'retry') {
      log?.warn(
        { callbackId: row.id, serviceId: row.service_id, attempts: row.attempts, response: describe(result) },
        'callback attempt failed',
      );
      const retryAfterMs = result.kind === 'response' ? result.retryAfterMs : undefined;
      return outcomes.record(row, failedAttempt(row, describe(result), retryAfterMs));
    }
    log?.warn({ callbackId: row.id, serviceId: row.service_id, response: describe(result) }, 'callback refused');
    outcomes.record(row, finalFor(row, 'failed', describe(result)));
  }

  return {
    nextClaim() {
      lanes.expireWaiting();
      const room = MAX_HELD - lanes.held();
      if (room <= 0) return null;
      return { limit: Math.min(config.worker.batchSize, room), table: callbackQueueExcluding(lanes.full()) };
    },
    async handleBatch(rows, batch) {
      const prepared = await prepare(db, secrets, rows, batch.startBy, log);
      // Claimed rows come back in no particular order; a service hears of events in the order they happened.
      prepared.sort((a, b) => a.row.created_at.getTime() - b.row.created_at.getTime());
      const untried: Fenced[] = [];
      const touched = new Set<string>();
      for (const p of prepared) {
        if (p.row.attempts > maxAttempts) {
          // Only after leases ran out without an outcome, e.g. a sender killed mid-request each time.
          outcomes.record(p.row, finalFor(p.row, 'failed', `no outcome after ${maxAttempts} attempts`));
          continue;
        }
        if (lanes.admit(p)) touched.add(p.row.service_id);
        else untried.push(p.row);
      }
      lanes.pump(touched);
      return untried;
    },
    held: () => lanes.held(),
    releaseHeld: () => lanes.releaseWaiting(),
    settled: () => outcomes.settled(),
    async close() {
      unmeasure();
      outbound.close();
    },
  };
}
