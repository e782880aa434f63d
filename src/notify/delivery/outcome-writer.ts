/**
 * The outcomes of claimed rows (sent, failed, to retry), written back in batches by one writer at a time: what
 * finishes while a write runs goes into the next one, and the outcomes of one tick share the first. Used by the
 * delivery worker and the callback sender, whose `write` turns a batch into their own statements.
 */
import { withRetries, type Logger } from '../../platform/queue/background.ts';

export interface OutcomeWriter<T> {
  add(outcome: T): void;
  /** Resolves once every outcome added so far is written. */
  settled(): Promise<void>;
}

export function createOutcomeWriter<T>(
  what: string,
  write: (batch: T[]) => Promise<void>,
  log?: Logger,
): OutcomeWriter<T> {
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
