/**
 * Receipts waiting for their notification (receipts/applier.ts): a receipt can beat the worker's commit of the
 * provider reference, so one whose notification is not found is tried again in later batches, with a growing gap,
 * for retryForMs at most; then it is logged and dropped. The list is bounded: past maxWaiting the oldest go.
 */
import type { Logger } from '../../../platform/queue/background.ts';
import { receiptResults as counted } from '../../../platform/metrics.ts';
import type { Receipt, ReceiptTarget } from './types.ts';

/** A receipt waiting for its notification to appear. */
export interface Waiting {
  receipt: Receipt;
  firstSeen: number;
  retryAt: number;
  tries: number;
}

export interface WaitingReceipts {
  readonly size: number;
  /** Takes the receipts due for another try by `now`. */
  takeDue(now: number): Waiting[];
  /**
   * Keeps `receipt` for a later try (`previous`: its entry when this was already a retry), or drops it once its
   * time is up or when `dropNow` (the applier is closing).
   */
  wait(receipt: Receipt, previous: Waiting | undefined, now: number, dropNow: boolean): void;
  /** When the next receipt is due, Infinity when none waits. */
  nextRetryAt(): number;
  /** Forgets them all; resolves how many were dropped. */
  dropAll(): number;
}

const FIRST_RETRY_MS = 500;
const LONGEST_RETRY_GAP_MS = 8_000;

export function describeTarget(target: ReceiptTarget): string {
  return 'notificationId' in target
    ? `notification ${target.notificationId}`
    : `${target.provider} message ${target.reference}`;
}

export function createWaitingReceipts(opts: { retryForMs: number; maxWaiting: number; log: Logger }): WaitingReceipts {
  const { retryForMs, maxWaiting, log } = opts;
  let waiting: Waiting[] = [];
  return {
    get size() {
      return waiting.length;
    },
    takeDue(now) {
      const due: Waiting[] = [];
      const rest: Waiting[] = [];
      for (const w of waiting) (w.retryAt <= now ? due : rest).push(w);
      waiting = rest;
      return due;
    },
    wait(receipt, previous, now, dropNow) {
      const firstSeen = previous?.firstSeen ?? now;
      const tries = (previous?.tries ?? 0) + 1;
      if (now - firstSeen >= retryForMs || dropNow) {
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
    },
    nextRetryAt: () => waiting.reduce((soonest, w) => Math.min(soonest, w.retryAt), Infinity),
    dropAll() {
      const dropped = waiting.length;
      waiting = [];
      return dropped;
    },
  };
}
