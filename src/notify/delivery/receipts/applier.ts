/**
 * The one ReceiptSink: receipts from every source are applied in batches, one statement per batch (group commit,
 * as domain/notification-writer.ts does for accepted requests). That statement updates the notifications, puts
 * hard bounces, opt-outs and complainers on the service's suppression list, records complaints, and queues the
 * services' callbacks, so a status change and its callback commit together.
 *
 * Rules, for a status receipt:
 *   - it applies to a notification in `sending` or `pending`; a `pending` receipt only moves `sending` → `pending`;
 *   - a `delivered` notification may still become a failure, but only through a bounce (`bounce: true`);
 *   - any other receipt for a final notification is logged and dropped.
 * A complaint applies to a notification in any status but `created` (complaints come long after delivery).
 *
 * A receipt can beat the worker: the provider answers, sends its event, and the event arrives before the worker
 * has committed the provider reference. A receipt whose notification is not found is kept in memory and tried
 * again in later batches for about 30 s (bounded), then logged and dropped. submit() resolves once the batch has
 * committed, whether or not every receipt found its notification.
 */
import { sql } from 'kysely';
import { prepared, type Db } from '../../../platform/database/connection.ts';
import type { Logger } from '../../../platform/queue/background.ts';
import { queueComplaintCallbacks, queueStatusCallbacks } from '../callbacks/queue.ts';
import type { ComplaintReceipt, Receipt, ReceiptSink, ReceiptTarget, StatusReceipt } from './types.ts';
import { receiptResults as counted } from '../../../platform/metrics.ts';

export interface ReceiptApplierOptions {
  logger?: Logger;
  /** Receipts per statement, at most (a submission is never split, so one may go past it). */
  maxBatch?: number;
  /** How long a receipt whose notification is not found yet is tried again. */
  retryForMs?: number;
  /** Unmatched receipts kept at most; past it the oldest are dropped. */
  maxWaiting?: number;
  /**
   * Statements running at once. Two: while one batch commits, the receipts that arrived meanwhile go in the
   * next instead of waiting for it (a commit's flush to disk is most of a small batch's time).
   */
  maxInFlight?: number;
}

export interface ReceiptApplier extends ReceiptSink {
  /** Applies what was submitted, then stops; receipts still waiting for their notification are dropped. */
  close(): Promise<void>;
}

interface Submission {
  receipts: Receipt[];
  resolve: (result: { waiting: number }) => void;
  reject: (err: unknown) => void;
}

/** A receipt waiting for its notification to appear. */
interface Waiting {
  receipt: Receipt;
  firstSeen: number;
  retryAt: number;
  tries: number;
}

/** One row of the statement's input: the effective status receipt of a notification, or a complaint. */
interface Row {
  receipt: Receipt;
  /** The receipts this row stands for (a status row's whole group), to wait again if it is not found. */
  sources: Receipt[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FIRST_RETRY_MS = 500;
const SECOND_BATCH_MIN = 32;
const LONGEST_RETRY_GAP_MS = 8_000;

const silent: Logger = { info() {}, warn() {}, error() {} };

function targetKey(target: ReceiptTarget): string {
  return 'notificationId' in target
    ? `id:${target.notificationId.toLowerCase()}`
    : `ref:${target.provider}:${target.reference}`;
}

function describeTarget(target: ReceiptTarget): string {
  return 'notificationId' in target
    ? `notification ${target.notificationId}`
    : `${target.provider} message ${target.reference}`;
}

/** Why a receipt cannot be applied at all, or null. */
function problemWith(receipt: Receipt): string | null {
  if (!(receipt.at instanceof Date) || Number.isNaN(receipt.at.getTime())) return 'its time is not a date';
  const target = receipt.target;
  if ('notificationId' in target) return UUID.test(target.notificationId) ? null : 'its notification id is not a UUID';
  if (typeof target.reference !== 'string' || target.reference === '' || typeof target.provider !== 'string') {
    return 'it names no provider reference';
  }
  return null;
}

const FINAL = new Set(['delivered', 'sent', 'permanent-failure', 'temporary-failure', 'technical-failure']);

/**
 * The receipts for one notification in time order, reduced to the one that decides its status: once a receipt
 * has made it final, only a bounce after a delivery may change it. The database applies the same rules to the
 * row's current status, so a batch ends where the same receipts applied one batch each would.
 */
export function decisiveReceipt(group: StatusReceipt[]): StatusReceipt {
  const ordered = group
    .map((receipt, arrival) => ({ receipt, arrival }))
    .sort((a, b) => a.receipt.at.getTime() - b.receipt.at.getTime() || a.arrival - b.arrival)
    .map((o) => o.receipt);
  let decisive = ordered[0]!;
  for (const receipt of ordered.slice(1)) {
    const current = decisive.status;
    const applies = FINAL.has(current)
      ? current === 'delivered' && receipt.bounce === true && receipt.status !== 'delivered'
      : !(current === 'pending' && receipt.status === 'pending');
    if (applies) decisive = receipt;
  }
  return decisive;
}

/** The one statement that applies a batch of rows (see the top of this file). */
function receiptStatement(rows: Row[]) {
  const status = (r: Receipt) => (r.kind === 'status' ? r : null);
  const complaint = (r: Receipt) => (r.kind === 'complaint' ? (r as ComplaintReceipt) : null);
  const target = (r: Receipt) => r.target;
  return sql<{ ord: number; current: string; applied: boolean }>`${prepared}
    WITH incoming AS (
      SELECT * FROM unnest(
        ${rows.map((_, i) => i)}::int4[],
        ${rows.map((r) => r.receipt.kind)}::text[],
        ${rows.map((r) => {
          const t = target(r.receipt);
          return 'provider' in t ? t.provider : null;
        })}::text[],
        ${rows.map((r) => {
          const t = target(r.receipt);
          return 'reference' in t ? t.reference : null;
        })}::text[],
        ${rows.map((r) => {
          const t = target(r.receipt);
          return 'notificationId' in t ? t.notificationId : null;
        })}::uuid[],
        ${rows.map((r) => status(r.receipt)?.status ?? null)}::text[],
        ${rows.map((r) => status(r.receipt)?.response ?? null)}::text[],
        ${rows.map((r) => r.receipt.at.toISOString())}::timestamptz[],
        ${rows.map((r) => status(r.receipt)?.suppress ?? null)}::text[],
        ${rows.map((r) => (status(r.receipt)?.bounce === true ? 'true' : 'false'))}::bool[],
        ${rows.map((r) => complaint(r.receipt)?.complaintType ?? null)}::text[]
      ) AS i(ord, kind, provider, reference, notification_id, status, response, at, suppress, bounce, complaint_type)
    ),
    -- One index look-up per receipt (LATERAL … LIMIT 1 keeps it one), whatever the planner thinks of the table.
    found AS (
      SELECT i.*, n.* FROM incoming i CROSS JOIN LATERAL (
        SELECT n.id, n.created_at, n.service_id, n.status AS current, n.notification_type, n.normalised_to, n.provider_reference AS nref
        FROM notifications n WHERE n.id = i.notification_id AND n.status <> 'created' LIMIT 1) n
      WHERE i.notification_id IS NOT NULL
      UNION ALL
      SELECT i.*, n.* FROM incoming i CROSS JOIN LATERAL (
        SELECT n.id, n.created_at, n.service_id, n.status AS current, n.notification_type, n.normalised_to, n.provider_reference AS nref
        FROM notifications n WHERE n.provider_reference = i.reference AND n.provider = i.provider AND n.status <> 'created' LIMIT 1) n
      WHERE i.notification_id IS NULL
    ),
    changed AS (
      UPDATE notifications AS n
      SET status = f.status, provider_response = f.response, updated_at = f.at
      FROM found f
      -- created_at too: notifications may be partitioned by it.
      WHERE n.id = f.id AND n.created_at = f.created_at AND f.kind = 'status' AND (
        n.status = 'sending'
        OR (n.status = 'pending' AND f.status <> 'pending')
        OR (n.status = 'delivered' AND f.bounce AND f.status <> 'delivered'))
      RETURNING n.id, n.service_id, n.status, n.provider_response, n.updated_at, n.notification_type, n.normalised_to, f.ord, f.suppress
    ),
    complained AS (
      INSERT INTO complaints (service_id, notification_id, complaint_type, complaint_date, provider_reference)
      SELECT f.service_id, f.id, f.complaint_type, f.at, f.nref FROM found f
      WHERE f.kind = 'complaint'
        -- SNS delivers at least once: the same complaint twice is one complaint.
        AND NOT EXISTS (SELECT 1 FROM complaints k WHERE k.notification_id = f.id AND k.complaint_date = f.at)
      RETURNING id, service_id
    ),
    suppressed AS (
      INSERT INTO suppressions (service_id, channel, recipient, reason, notification_id)
      SELECT DISTINCT ON (s.service_id, s.channel, s.recipient) s.service_id, s.channel, s.recipient, s.reason, s.notification_id
      FROM (
        SELECT c.service_id, c.notification_type AS channel, c.normalised_to AS recipient, c.suppress AS reason, c.id AS notification_id
        FROM changed c WHERE c.suppress IS NOT NULL
        UNION ALL
        SELECT f.service_id, f.notification_type, f.normalised_to, 'complaint', f.id FROM found f WHERE f.kind = 'complaint'
      ) s
      ORDER BY s.service_id, s.channel, s.recipient
      ON CONFLICT DO NOTHING
    ),
    queued_status AS (${queueStatusCallbacks('changed')}),
    queued_complaints AS (${queueComplaintCallbacks('complained')})
    SELECT f.ord, f.current, (c.ord IS NOT NULL) AS applied FROM found f LEFT JOIN changed c ON c.ord = f.ord`;
}

/**
 * For /metrics each receipt is counted once as applied or ignored when its fate is known, and also once as waiting
 * when it first waits for its notification. Receipts that a later one in the same batch superseded share its fate.
 */
export function createReceiptApplier(db: Db, opts: ReceiptApplierOptions = {}): ReceiptApplier {
  const log = opts.logger ?? silent;
  const maxBatch = opts.maxBatch ?? 2_000;
  const retryForMs = opts.retryForMs ?? 30_000;
  const maxWaiting = opts.maxWaiting ?? 20_000;
  const maxInFlight = opts.maxInFlight ?? 2;

  const queue: Submission[] = [];
  let waiting: Waiting[] = [];
  let inFlight = 0;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;
  let idleWaiters: Array<() => void> = [];

  const queued = (): number => queue.reduce((n, s) => n + s.receipts.length, 0);

  function dueWaiting(now: number): Waiting[] {
    const due: Waiting[] = [];
    const rest: Waiting[] = [];
    for (const w of waiting) (w.retryAt <= now ? due : rest).push(w);
    waiting = rest;
    return due;
  }

  function pump(): void {
    while (inFlight < maxInFlight) {
      // A second statement only for a batch worth it: a handful of receipts waits for the one running, rather than
      // paying a statement of its own (most of a small batch's cost is the statement, not its rows).
      if (inFlight > 0 && queued() < SECOND_BATCH_MIN) break;
      const submissions: Submission[] = [];
      let count = 0;
      while (queue.length > 0 && count < maxBatch) {
        const s = queue.shift()!;
        submissions.push(s);
        count += s.receipts.length;
      }
      const retries = closed ? [] : dueWaiting(Date.now());
      if (submissions.length === 0 && retries.length === 0) break;
      inFlight += 1;
      void flush(submissions, retries).finally(() => {
        inFlight -= 1;
        pump();
      });
    }
    if (inFlight === 0) {
      schedule();
      for (const wake of idleWaiters) wake();
      idleWaiters = [];
    }
  }

  /** Wakes the pump when the next waiting receipt is due (nothing else may come to flush it). */
  function schedule(): void {
    if (timer || closed || waiting.length === 0) return;
    const next = waiting.reduce((soonest, w) => Math.min(soonest, w.retryAt), Infinity);
    timer = setTimeout(
      () => {
        timer = null;
        pump();
      },
      Math.max(0, next - Date.now()),
    );
    timer.unref();
  }

  function wait(receipt: Receipt, previous: Waiting | undefined, now: number): void {
    const firstSeen = previous?.firstSeen ?? now;
    const tries = (previous?.tries ?? 0) + 1;
    if (now - firstSeen >= retryForMs || closed) {
      log.info(
        { target: describeTarget(receipt.target), kind: receipt.kind },
        'receipt for an unknown notification dropped',
      );
      counted.ignored.inc();
      return;
    }
    if (!previous) counted.waiting.inc();
    const gap = Math.min(FIRST_RETRY_MS * 2 ** (tries - 1), LONGEST_RETRY_GAP_MS);
    waiting.push({ receipt, firstSeen, tries, retryAt: Math.min(now + gap, firstSeen + retryForMs) });
    if (waiting.length > maxWaiting) {
      const excess = waiting.length - maxWaiting;
      waiting.splice(0, excess);
      counted.ignored.inc(excess);
      log.warn(
        { dropped: excess, kept: maxWaiting },
        'too many receipts waiting for their notification: the oldest were dropped',
      );
    }
  }

  async function flush(submissions: Submission[], retries: Waiting[]): Promise<void> {
    const previousOf = new Map<Receipt, Waiting>(retries.map((w) => [w.receipt, w]));
    const all: Receipt[] = [...retries.map((w) => w.receipt), ...submissions.flatMap((s) => s.receipts)];
    const groups = new Map<string, StatusReceipt[]>();
    const rows: Row[] = [];
    for (const receipt of all) {
      const problem = problemWith(receipt);
      if (problem) {
        log.warn({ receipt }, `receipt dropped: ${problem}`);
        counted.ignored.inc();
        continue;
      }
      if (receipt.kind === 'complaint') {
        rows.push({ receipt, sources: [receipt] });
        continue;
      }
      const key = targetKey(receipt.target);
      const group = groups.get(key);
      if (group) group.push(receipt);
      else groups.set(key, [receipt]);
    }
    for (const group of groups.values()) {
      rows.push({ receipt: decisiveReceipt(group), sources: group });
    }

    try {
      const outcomes = rows.length === 0 ? new Map<number, Outcome>() : await applyWithRetry(rows);
      const now = Date.now();
      const notFound = new Set<Receipt>();
      for (const [ord, row] of rows.entries()) {
        const outcome = outcomes.get(ord);
        if (!outcome) {
          for (const source of row.sources) {
            // Only a recent event can be racing the worker's commit; an old one is for a notification Envoi never had.
            if (now - source.at.getTime() < retryForMs) notFound.add(source);
            wait(source, previousOf.get(source), now);
          }
        } else if (row.receipt.kind === 'status' && !outcome.applied) {
          log.info(
            { target: describeTarget(row.receipt.target), status: outcome.current, receipt: row.receipt.status },
            'receipt for a notification already final (or already at that status) dropped',
          );
          counted.ignored.inc(row.sources.length);
        } else {
          // A status change, or a complaint recorded (a repeat of one already recorded is not told apart).
          counted.applied.inc(row.sources.length);
        }
        // Receipts superseded within their group are not logged one by one: their notification got a later word.
      }
      for (const s of submissions) s.resolve({ waiting: s.receipts.filter((r) => notFound.has(r)).length });
    } catch (err) {
      log.error({ err, receipts: all.length }, 'receipts could not be applied');
      const now = Date.now();
      for (const w of retries) wait(w.receipt, w, now);
      for (const s of submissions) s.reject(err);
    }
  }

  interface Outcome {
    current: string;
    applied: boolean;
  }

  async function applyWithRetry(rows: Row[]): Promise<Map<number, Outcome>> {
    try {
      return await apply(rows);
    } catch {
      // Another replica's batch may hold the same rows in the other order (a deadlock): once more is enough.
      return apply(rows);
    }
  }

  /** Runs the batch's statement: for each row found, the status it had and whether it changed. */
  async function apply(rows: Row[]): Promise<Map<number, Outcome>> {
    const { rows: found } = await receiptStatement(rows).execute(db);
    const outcomes = new Map<number, Outcome>();
    for (const row of found) outcomes.set(Number(row.ord), { current: row.current, applied: row.applied === true });
    return outcomes;
  }

  return {
    submit(receipts) {
      if (closed) return Promise.reject(new Error('the receipt applier is closed'));
      if (receipts.length === 0) return Promise.resolve({ waiting: 0 });
      return new Promise<{ waiting: number }>((resolve, reject) => {
        queue.push({ receipts, resolve, reject });
        pump();
      });
    },

    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = null;
      if (inFlight > 0 || queue.length > 0) {
        await new Promise<void>((resolve) => {
          idleWaiters.push(resolve);
          pump();
        });
      }
      if (waiting.length > 0)
        log.info({ dropped: waiting.length }, 'receipts still waiting for their notification were dropped at shutdown');
      counted.ignored.inc(waiting.length);
      waiting = [];
    },
  };
}
