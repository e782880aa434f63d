/**
 * The one ReceiptSink: receipts from every source are applied in batches, one statement per batch (group commit,
 * as sending/notification-writer.ts does for accepted requests; the statement is repositories/notifications.ts's
 * applyReceipts). That statement updates the notifications, puts hard bounces, opt-outs and complainers on the
 * service's suppression list, records complaints, and queues the services' callbacks, so a status change and its
 * callback commit together.
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
import type { Db } from '../../../platform/database/connection.ts';
import type { Logger } from '../../../platform/queue/background.ts';
import { receiptResults as counted } from '../../../platform/metrics.ts';
import { applyReceipts, type ReceiptOutcome } from '../../repositories/notifications.ts';
import type { Receipt, ReceiptSink, ReceiptTarget, StatusReceipt } from './types.ts';
import { createWaitingReceipts, describeTarget, type Waiting, type WaitingReceipts } from './waiting.ts';
import { isUuid } from '../../../platform/ids.ts';

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

/** One row of the statement's input: the effective status receipt of a notification, or a complaint. */
interface Row {
  receipt: Receipt;
  /** The receipts this row stands for (a status row's whole group), to wait again if it is not found. */
  sources: Receipt[];
}

const SECOND_BATCH_MIN = 32;

const silent: Logger = { info() {}, warn() {}, error() {} };

function targetKey(target: ReceiptTarget): string {
  return 'notificationId' in target
    ? `id:${target.notificationId.toLowerCase()}`
    : `ref:${target.provider}:${target.reference}`;
}

/** Why a receipt cannot be applied at all, or null. */
function problemWith(receipt: Receipt): string | null {
  if (!(receipt.at instanceof Date) || Number.isNaN(receipt.at.getTime())) return 'its time is not a date';
  const target = receipt.target;
  if ('notificationId' in target) return isUuid(target.notificationId) ? null : 'its notification id is not a UUID';
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

/**
 * For /metrics each receipt is counted once as applied or ignored when its fate is known, and also once as waiting
 * when it first waits for its notification. Receipts that a later one in the same batch superseded share its fate.
 */
export function createReceiptApplier(db: Db, opts: ReceiptApplierOptions = {}): ReceiptApplier {
  const log = opts.logger ?? silent;
  const maxBatch = opts.maxBatch ?? 2_000;
  const retryForMs = opts.retryForMs ?? 30_000;
  const maxInFlight = opts.maxInFlight ?? 2;
  const waiting = createWaitingReceipts({ retryForMs, maxWaiting: opts.maxWaiting ?? 20_000, log });
  const batches: Batches = { db, log, retryForMs, waiting, closed: false };

  const queue: Submission[] = [];
  let inFlight = 0;
  let timer: NodeJS.Timeout | null = null;
  let idleWaiters: Array<() => void> = [];

  const queued = (): number => queue.reduce((n, s) => n + s.receipts.length, 0);

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
      const retries = batches.closed ? [] : waiting.takeDue(Date.now());
      if (submissions.length === 0 && retries.length === 0) break;
      inFlight += 1;
      void flush(batches, submissions, retries).finally(() => {
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
    if (timer || batches.closed || waiting.size === 0) return;
    timer = setTimeout(
      () => {
        timer = null;
        pump();
      },
      Math.max(0, waiting.nextRetryAt() - Date.now()),
    );
    timer.unref();
  }

  return {
    submit(receipts) {
      if (batches.closed) return Promise.reject(new Error('the receipt applier is closed'));
      if (receipts.length === 0) return Promise.resolve({ waiting: 0 });
      return new Promise<{ waiting: number }>((resolve, reject) => {
        queue.push({ receipts, resolve, reject });
        pump();
      });
    },

    async close() {
      batches.closed = true;
      if (timer) clearTimeout(timer);
      timer = null;
      if (inFlight > 0 || queue.length > 0) {
        await new Promise<void>((resolve) => {
          idleWaiters.push(resolve);
          pump();
        });
      }
      if (waiting.size > 0)
        log.info({ dropped: waiting.size }, 'receipts still waiting for their notification were dropped at shutdown');
      counted.ignored.inc(waiting.dropAll());
    },
  };
}

/** What flushing a batch needs: the applier's settings and its waiting receipts. */
interface Batches {
  db: Db;
  log: Logger;
  retryForMs: number;
  waiting: WaitingReceipts;
  closed: boolean;
}

/** The batch's rows: complaints one each, status receipts one per notification (the decisive one of its group). */
function rowsOf(all: Receipt[], log: Logger): Row[] {
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
  return rows;
}

/** Applies one batch: the submissions' receipts and the waiting ones due again; settles the submissions. */
async function flush(batches: Batches, submissions: Submission[], retries: Waiting[]): Promise<void> {
  const { db, log, retryForMs, waiting } = batches;
  const previousOf = new Map<Receipt, Waiting>(retries.map((w) => [w.receipt, w]));
  const all: Receipt[] = [...retries.map((w) => w.receipt), ...submissions.flatMap((s) => s.receipts)];
  const rows = rowsOf(all, log);

  try {
    const outcomes = rows.length === 0 ? new Map<number, ReceiptOutcome>() : await applyWithRetry(db, rows);
    const now = Date.now();
    const notFound = new Set<Receipt>();
    for (const [ord, row] of rows.entries()) {
      const outcome = outcomes.get(ord);
      if (!outcome) {
        for (const source of row.sources) {
          // Only a recent event can be racing the worker's commit; an old one is for a notification Envoi never had.
          if (now - source.at.getTime() < retryForMs) notFound.add(source);
          waiting.wait(source, previousOf.get(source), now, batches.closed);
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
    for (const w of retries) waiting.wait(w.receipt, w, now, batches.closed);
    for (const s of submissions) s.reject(err);
  }
}

async function applyWithRetry(db: Db, rows: Row[]): Promise<Map<number, ReceiptOutcome>> {
  try {
    return await applyReceipts(db, rows);
  } catch {
    // Another replica's batch may hold the same rows in the other order (a deadlock): once more is enough.
    return applyReceipts(db, rows);
  }
}
