/**
 * What the background loops (delivery worker, callback sender, job loop) share: how they log, a sleep that stop() can
 * cut short, and a few quick retries for writing outcomes.
 */

import { isDatabaseUnavailable } from '../database/unavailable.ts';

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
 * Runs `fn`, trying again a few times over about two seconds: an outcome that cannot be written means the work is
 * done again when its lease runs out, and a short database blip should not cause that. While the database is out
 * of reach (a restart or failover takes longer than a blip) it keeps trying for up to half a minute: the writes are
 * fenced by the attempt claimed, so a late one never overwrites a newer claim's. Logs and gives up after that.
 */
export async function withRetries(what: string, fn: () => Promise<void>, log?: Logger): Promise<void> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const outage = isDatabaseUnavailable(err) && Date.now() - started < OUTAGE_RETRY_MS;
      if (attempt >= 5 && !outage) {
        log?.error({ err }, `could not ${what}; the rows will be retried when their lease runs out`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(200 * attempt, MAX_BACKOFF_MS)));
    }
  }
}

const OUTAGE_RETRY_MS = 30_000;
const MAX_BACKOFF_MS = 2000;

/**
 * A loop's failures in a row: a growing wait (its poll interval doubled up to two seconds, so a loop that polls
 * fast does not hammer a database that is down), and one log line when they start and one when they end, not one
 * per try.
 */
export function createFailureBackoff(name: string, log: Logger | undefined) {
  let failures = 0;
  let since = 0;
  return {
    /** Logs the first failure of a run; resolves to how long to wait before trying again. */
    failed(err: unknown, what: string, pollMs: number): number {
      failures += 1;
      if (failures === 1) {
        since = Date.now();
        const why = isDatabaseUnavailable(err) ? 'the database is unavailable; backing off until it answers' : what;
        log?.error({ err }, `${name}: ${why}`);
      }
      return Math.min(pollMs * 2 ** Math.min(failures, 10), Math.max(MAX_BACKOFF_MS, pollMs));
    },
    succeeded(): void {
      if (failures === 0) return;
      log?.info({ failures, seconds: Math.round((Date.now() - since) / 100) / 10 }, `${name}: working again`);
      failures = 0;
    },
  };
}
