/**
 * The worker's job loop, beside the delivery loop: runs jobs that are due (scheduled ones whose time has come,
 * and any whose processor died and whose lease ran out), one after another, and once an hour deletes uploaded
 * files past their retention. Jobs sent through the API do not wait for it: the API starts them at once.
 */
import { createSleeper, type Logger } from '../../platform/queue/background.ts';
import { JobAttemptFailed, type Jobs } from './jobs.ts';

const CLEANUP_EVERY_MS = 3_600_000;

export interface JobLoop {
  /** Finishes the job in hand, then stops. */
  stop(): Promise<void>;
}

export function startJobLoop(jobs: Jobs, opts: { pollMs: number; logger?: Logger }): JobLoop {
  let running = true;
  const sleeper = createSleeper();
  let lastCleanup = 0;

  async function loop(): Promise<void> {
    while (running) {
      try {
        while (running && (await jobs.processNext())) {
          // another job may be due: look again at once
        }
        if (running && Date.now() - lastCleanup > CLEANUP_EVERY_MS) {
          lastCleanup = Date.now();
          const removed = await jobs.deleteExpiredFiles();
          if (removed > 0) opts.logger?.info({ files: removed }, 'deleted uploaded files past their retention');
        }
      } catch (err) {
        // A job's failed attempt was logged (a warning) where it happened; anything else, such as a database that
        // cannot be reached, is this loop's to report.
        if (!(err instanceof JobAttemptFailed)) opts.logger?.error({ err }, 'job loop error');
      }
      if (running) await sleeper.sleep(opts.pollMs);
    }
  }

  const done = loop();
  return {
    async stop() {
      running = false;
      sleeper.wake();
      await done;
    },
  };
}
