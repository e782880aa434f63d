/**
 * The outcomes of claimed rows (sent, failed, to retry), written back in batches by one writer at a time: what
 * finishes while a write runs goes into the next one, and the outcomes of one tick share the first. Used by the
 * delivery worker and the callback sender: finals go to their own statement, retries back to their queue.
 */
import type { Db } from '../../platform/database/connection.ts';
import { withRetries, type Logger } from '../../platform/queue/background.ts';
import { type QueueTable, type Retry, release } from '../../platform/queue/claim-queue.ts';

/** What becomes of a claimed row: a final state (the caller's own shape), or a retry through its queue. */
export type RowOutcome<F> = { final: F } | { retry: Retry };

export interface OutcomeStatements<F, T> {
  db: Db;
  queue: QueueTable;
  writeFinals(db: Db, finals: F[]): Promise<void>;
  /** Whatever else a batch holds beyond finals and retries (the worker's throttled rows). */
  writeOthers?(batch: T[]): Promise<void>;
}

export interface OutcomeWriter<T> {
  add(outcome: T): void;
  /** Resolves once every outcome added so far is written. */
  settled(): Promise<void>;
}

export function createOutcomeWriter<F, T extends RowOutcome<F> | object>(
  what: string,
  statements: OutcomeStatements<F, T>,
  log?: Logger,
): OutcomeWriter<T> {
  const { db, queue, writeFinals, writeOthers } = statements;
  async function write(batch: T[]): Promise<void> {
    await writeFinals(
      db,
      batch.flatMap((o) => ('final' in o ? [o.final as F] : [])),
    );
    await release(
      db,
      queue,
      batch.flatMap((o) => ('retry' in o ? [o.retry as Retry] : [])),
    );
    await writeOthers?.(batch);
  }
  let pending: T[] = [];
  let flushing: Promise<void> | null = null;

  function schedule(): void {
    if (flushing) return;
    flushing = flushAll().finally(() => {
      flushing = null;
      // Outcomes added after flushAll's last look but before this callback ran would otherwise wait.
      if (pending.length > 0) schedule();
    });
  }

  async function flushAll(): Promise<void> {
    // Let the rows finishing in this tick join the first write.
    await new Promise((resolve) => setImmediate(resolve));
    while (pending.length > 0) {
      const batch = pending;
      pending = [];
      // After a few failed tries a batch is left: its rows are claimed again when their lease runs out.
      await withRetries(what, () => write(batch), log);
    }
  }

  return {
    add(outcome) {
      pending.push(outcome);
      schedule();
    },
    async settled() {
      while (flushing) await flushing;
    },
  };
}
