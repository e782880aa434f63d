/** What the background loops (delivery worker, job loop) share: how they log, and a sleep that stop() can cut short. */

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
