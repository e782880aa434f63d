/**
 * Sends the callbacks queued in callback_deliveries (queue.ts queues them in the statement that changes a
 * status) to services' receivers, through the claim/lease queue (db/claim-queue.ts) like the delivery worker.
 *
 * Each service has a lane: at most callbacks.perServiceConcurrency requests in flight, and a short local backlog
 * of claimed rows waiting for a slot. A service whose lane is full is left out of the next claims, so a slow or
 * dead receiver holds back only its own service's callbacks; a row that waits too long in a lane is given back
 * untried before its lease could run out.
 *
 * Outcomes: 2xx → delivered. Connection errors, timeouts, 429 and 5xx are retried with exponential backoff and
 * jitter (1, 2, 4, 8, 16 … minutes) until callbacks.maxAttempts, then failed. 410 Gone fails the row, disables the
 * callback and drops its other pending rows. Other answers (3xx included: redirects are never followed) and
 * addresses Envoi may not reach fail at once. A row whose callback was removed or disabled, or whose subject
 * retention has deleted, is dropped.
 */
import { sql } from 'kysely';
import type { Config } from '../../../platform/config.ts';
import type { Db } from '../../../platform/database/connection.ts';
import type { CallbackType } from '../../../platform/database/schema.ts';
import {
  claim,
  giveBack,
  release,
  type Fenced,
  type QueueTable,
  type Retry,
} from '../../../platform/queue/claim-queue.ts';
import { ensureWebhookSecret } from '../../settings/callback-settings.ts';
import { SecretBoxError, type SecretBox } from '../../../platform/secret-box.ts';
import { createSleeper, withRetries, type Logger } from '../../../platform/queue/background.ts';
import { createOutcomeWriter } from '../outcome-writer.ts';
import { buildPayloads, type CallbackPayload, type QueuedCallback } from './payloads.ts';
import { callbackHeaders } from './signing.ts';
import { createOutboundHttp, type OutboundResult } from './outbound-http.ts';
import { callbacksTotal, childOf } from '../../../platform/metrics.ts';

export interface CallbackSenderOptions {
  db: Db;
  config: Config;
  secrets: SecretBox;
  logger?: Logger;
  /** Delay before the next try after `attempts` failed ones; defaults to callbackRetryDelayMs. */
  retryDelayMs?: (attempts: number) => number;
}

export interface CallbackSender {
  /** Stops claiming, lets requests in flight finish and records them, gives back rows not yet tried. */
  stop(): Promise<void>;
  /** Resolves the next time nothing is due, in flight or waiting (tests, `--wait` commands). */
  drain(): Promise<void>;
}

interface ClaimedCallback extends QueuedCallback {
  attempts: number;
  created_at: Date;
}

export const CALLBACK_QUEUE: QueueTable = {
  table: 'callback_deliveries',
  idType: 'uuid',
  due: sql`state = 'pending' AND next_attempt_at <= now()`,
  orderBy: ['next_attempt_at'],
  returning: [
    'id',
    'service_id',
    'callback_type',
    'subject_id',
    'status',
    'provider_response',
    'status_at',
    'created_at',
    'attempts',
  ],
  noteColumn: 'last_response',
  touchColumn: 'updated_at',
};

/** The same queue, leaving out services whose lanes are full. */
function queueExcluding(serviceIds: string[]): QueueTable {
  if (serviceIds.length === 0) return CALLBACK_QUEUE;
  return { ...CALLBACK_QUEUE, due: sql`${CALLBACK_QUEUE.due} AND NOT (service_id = ANY(${serviceIds}::uuid[]))` };
}

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
/** A lane holds at most this many times its concurrency (in flight and waiting) before its service is skipped. */
const LANE_BACKLOG_FACTOR = 10;
/** Enough of an answer or an error to tell an operator what happened. */
const LAST_RESPONSE_CHARS = 300;

interface CallbackSetting {
  url: string;
  bearerToken: string;
  webhookSecret: string;
  disabled: string | null;
}

/** A claimed row ready to go: its payload and where to send it, or why it will not be sent. */
interface Prepared {
  row: ClaimedCallback;
  startBy: number;
  send: { setting: CallbackSetting; body: string } | { drop: string } | { fail: string };
}

interface Lane {
  inFlight: number;
  waiting: Prepared[];
  /** Left out of a claim for being full: wake the loop when it has room again. */
  wasFull: boolean;
}

interface Final extends Fenced {
  state: 'delivered' | 'failed' | 'dropped';
  response: string;
}

export function startCallbackSender(opts: CallbackSenderOptions): CallbackSender {
  const { db, config, secrets } = opts;
  const log = opts.logger;
  const { timeoutMs, maxAttempts, perServiceConcurrency, allowedHosts } = config.callbacks;
  const { batchSize, pollMs } = config.worker;
  // A row is sent at most half a lease after its claim; the lease must outlast the request's timeout.
  const leaseSeconds = Math.max(config.worker.leaseSeconds, Math.ceil((timeoutMs * 3) / 1000));
  const laneCap = perServiceConcurrency * LANE_BACKLOG_FACTOR;
  const retryDelayMs = opts.retryDelayMs ?? ((attempts: number) => callbackRetryDelayMs(attempts));
  const outbound = createOutboundHttp({ timeoutMs, allowedHosts });

  let running = true;
  const sleeper = createSleeper();
  const lanes = new Map<string, Lane>();
  const inFlight = new Set<Promise<void>>();
  let drainWaiters: Array<() => void> = [];

  // ---- writing outcomes back --------------------------------------------------------------------------------

  const outcomes = createOutcomeWriter<{ final: Final } | { retry: Retry }>(
    'write callback outcomes',
    async (batch) => {
      await writeFinals(batch.flatMap((o) => ('final' in o ? [o.final] : [])));
      await release(
        db,
        CALLBACK_QUEUE,
        batch.flatMap((o) => ('retry' in o ? [o.retry] : [])),
      );
    },
    log,
  );
  const callbackCount = childOf((kind, result) => callbacksTotal.labels(kind, result));
  /** Records a row's outcome and counts it for /metrics (`disabled`: the receiver answered 410 Gone). */
  const record = (row: ClaimedCallback, outcome: { final: Final } | { retry: Retry }, disabled = false): void => {
    outcomes.add(outcome);
    const result = disabled ? 'disabled' : 'final' in outcome ? outcome.final.state : 'retry';
    callbackCount(row.callback_type, result).inc();
  };

  async function writeFinals(rows: Final[]): Promise<void> {
    if (rows.length === 0) return;
    // `attempts` fences out a sender whose lease ran out; `state = 'pending'` keeps a drop made meanwhile (410).
    await sql`
      UPDATE callback_deliveries AS d
      SET state = v.state, last_response = v.response, claimed_until = NULL, updated_at = now()
      FROM unnest(
        ${rows.map((r) => r.id)}::uuid[],
        ${rows.map((r) => r.attempts)}::int[],
        ${rows.map((r) => r.state)}::text[],
        ${rows.map((r) => r.response)}::text[]
      ) AS v(id, attempts, state, response)
      WHERE d.id = v.id AND d.attempts = v.attempts AND d.state = 'pending'`.execute(db);
  }

  // ---- preparing a claimed batch ----------------------------------------------------------------------------

  async function prepare(rows: ClaimedCallback[], startBy: number): Promise<Prepared[]> {
    const serviceIds = [...new Set(rows.map((r) => r.service_id))];
    const stored = await db
      .selectFrom('service_callbacks as c')
      .innerJoin('services as s', 's.id', 'c.service_id')
      .select([
        'c.service_id',
        'c.callback_type',
        'c.url',
        'c.bearer_token_sealed',
        'c.disabled_at',
        'c.disabled_reason',
        's.webhook_secret_sealed',
      ])
      .where('c.service_id', 'in', serviceIds)
      .execute();
    const settings = new Map<string, CallbackSetting | { unusable: string }>();
    for (const s of stored) {
      let setting: CallbackSetting | { unusable: string };
      try {
        setting = {
          url: s.url,
          bearerToken: secrets.open(s.bearer_token_sealed),
          webhookSecret: s.webhook_secret_sealed
            ? secrets.open(s.webhook_secret_sealed)
            : await ensureWebhookSecret(db, secrets, s.service_id),
          disabled: s.disabled_at ? (s.disabled_reason ?? 'disabled') : null,
        };
      } catch (err) {
        // Sealed under another ENVOI_SECRET_KEY: retried, so that an operator who fixes the key loses nothing.
        if (!(err instanceof SecretBoxError)) throw err;
        log?.error(
          { err, serviceId: s.service_id, type: s.callback_type },
          'cannot open a callback token or webhook secret',
        );
        setting = { unusable: `cannot open the callback's token or signing secret: ${(err as Error).message}` };
      }
      settings.set(`${s.service_id}:${s.callback_type}`, setting);
    }
    const payloads = await buildPayloads(db, rows);
    return rows.map((row): Prepared => {
      const setting = settings.get(`${row.service_id}:${row.callback_type}`);
      const payload: CallbackPayload | undefined = payloads.get(row.id);
      let send: Prepared['send'];
      if (!setting) send = { drop: `the service has no ${row.callback_type} callback any more` };
      else if ('unusable' in setting) send = { fail: setting.unusable };
      else if (setting.disabled) send = { drop: `the callback is disabled: ${setting.disabled}` };
      else if (!payload) send = { drop: `its ${subjectName(row.callback_type)} no longer exists (retention)` };
      else send = { setting, body: JSON.stringify(payload) };
      return { row, startBy, send };
    });
  }

  // ---- lanes ------------------------------------------------------------------------------------------------

  function laneOf(serviceId: string): Lane {
    let lane = lanes.get(serviceId);
    if (!lane) {
      lane = { inFlight: 0, waiting: [], wasFull: false };
      lanes.set(serviceId, lane);
    }
    return lane;
  }

  function held(lane: Lane): number {
    return lane.inFlight + lane.waiting.length;
  }

  function totalHeld(): number {
    let n = 0;
    for (const lane of lanes.values()) n += held(lane);
    return n;
  }

  /** Starts waiting rows while the lane has free slots; rows past their start-by time go back to the queue. */
  function pump(serviceId: string, lane: Lane): void {
    const late: Fenced[] = [];
    while (lane.inFlight < perServiceConcurrency && lane.waiting.length > 0) {
      const next = lane.waiting.shift()!;
      if (!running || Date.now() > next.startBy) {
        late.push(next.row);
        continue;
      }
      lane.inFlight += 1;
      const p: Promise<void> = send(next)
        .catch((err) => log?.error({ err, callbackId: next.row.id }, 'callback send failed unexpectedly'))
        .finally(() => {
          inFlight.delete(p);
          lane.inFlight -= 1;
          pump(serviceId, lane);
          if (held(lane) === 0) lanes.delete(serviceId);
          if (lane.wasFull && held(lane) < laneCap / 2) {
            lane.wasFull = false;
            sleeper.wake();
          }
          if (inFlight.size === 0) sleeper.wake();
        });
      inFlight.add(p);
    }
    if (late.length > 0) void withRetries('give back callbacks', () => giveBack(db, CALLBACK_QUEUE, late), log);
  }

  /** Rows that waited in a lane past their start-by time (their receiver is slow) go back to the queue. */
  function expireWaiting(): void {
    const now = Date.now();
    const late: Fenced[] = [];
    for (const lane of lanes.values()) {
      const keep = lane.waiting.filter((w) => w.startBy >= now);
      if (keep.length === lane.waiting.length) continue;
      for (const w of lane.waiting) if (w.startBy < now) late.push(w.row);
      lane.waiting = keep;
    }
    if (late.length > 0) void withRetries('give back callbacks', () => giveBack(db, CALLBACK_QUEUE, late), log);
  }

  // ---- one callback -----------------------------------------------------------------------------------------

  function finalFor(row: ClaimedCallback, state: Final['state'], response: string): { final: Final } {
    return { final: { id: row.id, attempts: row.attempts, state, response: short(response) } };
  }

  /** `retryAfterMs`: the receiver asked to wait at least that long (429 or 503 with Retry-After). */
  function failedAttempt(
    row: ClaimedCallback,
    response: string,
    retryAfterMs?: number,
  ): { final: Final } | { retry: Retry } {
    if (row.attempts >= maxAttempts)
      return finalFor(row, 'failed', `gave up after ${row.attempts} attempts: ${response}`);
    const delayMs = Math.max(retryDelayMs(row.attempts), Math.min(retryAfterMs ?? 0, LONGEST_RETRY_AFTER_MS));
    return { retry: { id: row.id, attempts: row.attempts, delayMs, note: short(response) } };
  }

  async function send(prepared: Prepared): Promise<void> {
    const { row } = prepared;
    if ('drop' in prepared.send) return record(row, finalFor(row, 'dropped', prepared.send.drop));
    if ('fail' in prepared.send) return record(row, failedAttempt(row, prepared.send.fail));
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
      await disableCallback(row, setting.url);
      return record(row, finalFor(row, 'failed', describe(result)), true);
    }
    if (outcome === 'delivered') return record(row, finalFor(row, 'delivered', describe(result)));
    if (outcome === 'retry') {
      log?.warn(
        { callbackId: row.id, serviceId: row.service_id, attempts: row.attempts, response: describe(result) },
        'callback attempt failed',
      );
      return record(
        row,
        failedAttempt(row, describe(result), result.kind === 'response' ? result.retryAfterMs : undefined),
      );
    }
    log?.warn({ callbackId: row.id, serviceId: row.service_id, response: describe(result) }, 'callback refused');
    record(row, finalFor(row, 'failed', describe(result)));
  }

  /**
   * The receiver says it is gone for good: stop queuing for it and drop what is queued. Only if the URL is still
   * the one that answered, so that a service that has just set a new URL keeps it. Done before the lane's slot is
   * freed, so no other row of this callback starts meanwhile.
   */
  async function disableCallback(row: ClaimedCallback, url: string): Promise<void> {
    const reason = `${url} answered 410 Gone`;
    await withRetries(
      'disable a callback',
      async () => {
        await db.transaction().execute(async (trx) => {
          await trx
            .updateTable('service_callbacks')
            .set({ disabled_at: new Date(), disabled_reason: reason, updated_at: new Date() })
            .where('service_id', '=', row.service_id)
            .where('callback_type', '=', row.callback_type)
            .where('url', '=', url)
            .where('disabled_at', 'is', null)
            .execute();
          await trx
            .updateTable('callback_deliveries')
            .set({
              state: 'dropped',
              last_response: short(`callback disabled: ${reason}`),
              claimed_until: null,
              updated_at: new Date(),
            })
            .where('service_id', '=', row.service_id)
            .where('callback_type', '=', row.callback_type)
            .where('state', '=', 'pending')
            .where('id', '<>', row.id)
            .execute();
        });
      },
      log,
    );
    const lane = lanes.get(row.service_id);
    if (lane) lane.waiting = lane.waiting.filter((w) => w.row.callback_type !== row.callback_type);
    log?.warn(
      { serviceId: row.service_id, type: row.callback_type, url },
      'callback disabled: the receiver answered 410 Gone',
    );
  }

  // ---- the loop ---------------------------------------------------------------------------------------------

  async function loop(): Promise<void> {
    while (running) {
      expireWaiting();
      const room = MAX_HELD - totalHeld();
      if (room <= 0) {
        await sleeper.sleep(pollMs);
        continue;
      }
      const full: string[] = [];
      for (const [serviceId, lane] of lanes) {
        if (held(lane) >= laneCap) {
          full.push(serviceId);
          lane.wasFull = true;
        }
      }
      const limit = Math.min(batchSize, room);
      let rows: ClaimedCallback[];
      const claimedAt = Date.now();
      try {
        rows = await claim<ClaimedCallback>(db, queueExcluding(full), { limit, leaseSeconds });
      } catch (err) {
        log?.error({ err }, 'callback sender could not claim callbacks');
        await sleeper.sleep(pollMs);
        continue;
      }
      if (rows.length === 0) {
        if (inFlight.size === 0 && totalHeld() === 0) await settleDrain();
        if (running) await sleeper.sleep(pollMs);
        continue;
      }
      let prepared: Prepared[];
      try {
        prepared = await prepare(rows, claimedAt + (leaseSeconds * 1000) / 2);
      } catch (err) {
        log?.error({ err }, 'callback sender could not load callback settings or payloads');
        await withRetries('give back callbacks', () => giveBack(db, CALLBACK_QUEUE, rows), log);
        await sleeper.sleep(pollMs);
        continue;
      }
      // Claimed rows come back in no particular order; a service hears of events in the order they happened.
      prepared.sort((a, b) => a.row.created_at.getTime() - b.row.created_at.getTime());
      const untried: Fenced[] = [];
      const touched = new Set<string>();
      for (const p of prepared) {
        if (p.row.attempts > maxAttempts) {
          // Only after leases ran out without an outcome, e.g. a sender killed mid-request each time.
          record(p.row, finalFor(p.row, 'failed', `no outcome after ${maxAttempts} attempts`));
          continue;
        }
        const lane = laneOf(p.row.service_id);
        if (!running || held(lane) >= laneCap) {
          untried.push(p.row);
          continue;
        }
        lane.waiting.push(p);
        touched.add(p.row.service_id);
      }
      for (const serviceId of touched) pump(serviceId, laneOf(serviceId));
      if (untried.length > 0)
        await withRetries('give back callbacks', () => giveBack(db, CALLBACK_QUEUE, untried), log);
      if (rows.length < limit && running) await sleeper.sleep(pollMs);
    }
  }

  async function settleDrain(): Promise<void> {
    if (drainWaiters.length === 0) return;
    await outcomes.settled();
    const waiters = drainWaiters;
    drainWaiters = [];
    for (const w of waiters) w();
  }

  const loopDone = loop().catch((err) => log?.error({ err }, 'callback sender stopped unexpectedly'));

  return {
    async stop() {
      if (!running) return loopDone.then(() => undefined);
      running = false;
      sleeper.wake();
      await loopDone;
      // Rows still waiting in lanes were never tried: back to the queue, due at once.
      const untried: Fenced[] = [];
      for (const lane of lanes.values()) untried.push(...lane.waiting.splice(0).map((w) => w.row));
      await withRetries('give back callbacks', () => giveBack(db, CALLBACK_QUEUE, untried), log);
      await Promise.all(inFlight);
      await outcomes.settled();
      for (const w of drainWaiters.splice(0)) w();
      outbound.close();
    },
    drain() {
      if (!running) return Promise.resolve();
      return new Promise<void>((resolve) => {
        drainWaiters.push(resolve);
        sleeper.wake();
      });
    },
  };
}

function subjectName(type: CallbackType): string {
  return type === 'delivery_status' ? 'notification' : type === 'inbound_sms' ? 'received text message' : 'complaint';
}

/** A receiver's Retry-After is honoured up to this: a larger one would outlast the whole retry schedule. */
const LONGEST_RETRY_AFTER_MS = 60 * 60 * 1000;

type Judgement = 'delivered' | 'retry' | 'gone' | 'refused';

/** Notify's rules (service_callback_tasks.py): retry on no answer, 429 and 5xx; other answers are final. */
function judge(result: OutboundResult): Judgement {
  if (result.kind === 'blocked') return 'refused';
  if (result.kind === 'error') return 'retry';
  if (result.status >= 200 && result.status < 300) return 'delivered';
  if (result.status === 410) return 'gone';
  if (result.status === 429 || result.status >= 500) return 'retry';
  return 'refused';
}

/** What goes in last_response: the status and the first bytes of the answer, or why there was none. */
function describe(result: OutboundResult): string {
  if (result.kind === 'blocked') return `blocked: ${result.reason}`;
  if (result.kind === 'error') return `no answer: ${result.reason}`;
  const redirect =
    result.status >= 300 && result.status < 400
      ? ` redirect not followed${result.location ? ` (to ${result.location})` : ''}`
      : '';
  const body = result.body.replace(/\s+/g, ' ').trim();
  return `${result.status}${redirect}${body ? ` ${body}` : ''}`;
}

function short(text: string): string {
  return text.length > LAST_RESPONSE_CHARS ? `${text.slice(0, LAST_RESPONSE_CHARS - 1)}…` : text;
}
