/**
 * What the background loops (delivery worker, callback sender, job loop) share: how they log, a sleep that stop() can
 * cut short, and a few quick retries for writing outcomes.
 */

/** The slice of pino the loops use, so tests can pass a plain object. */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** An idle wait between polls that `wake()` ends at once, so stopping a loop never waits out a poll interval. */
export function createSleeper(): { sleep(ms: number): Promise<void>; wake(): void } {
  let wakeUp: (() => void) | null = null;
  return {
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          wakeUp = null;
          resolve();
        }
        wakeUp = done;
      }),
    wake: () => wakeUp?.(),
  };
}

/**
 * News that work was just added (notifications committed by the API), for a loop in the same process to claim it
 * at once rather than at the end of its idle wait. Loops in other processes still find it by polling.
 */
export interface WorkSignal {
  /** Calls `listener` on every notify() until the returned function is called. */
  subscribe(listener: () => void): () => void;
}

export function createWorkSignal(): WorkSignal & { notify(): void } {
  const listeners = new Set<() => void>();
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    notify() {
      for (const listener of listeners) listener();
    },
  };
}

/**
 * Runs `fn`, trying again a few times over about two seconds: an outcome that cannot be written means the work is
 * done again when its lease runs out, and a short database blip should not cause that. Logs and gives up after that.
 */
export async function withRetries(what: string, fn: () => Promise<void>, log?: Logger): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 5) {
        log?.error({ err }, `could not ${what}; the rows will be retried when their lease runs out`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}
