/**
 * The bulk jobs' catalogue entries: jobs that are due (scheduled ones whose time has come, and any whose processor
 * died and whose lease ran out) run one after another, claimed one at a time by jobs.ts through claim-queue.ts; and
 * once an hour uploaded files past their retention are deleted. Jobs sent through the API do not wait for them: the
 * API starts them at once.
 */
import type { Logger } from '../../platform/queue/background.ts';
import { type PeriodicWork, type PollWork, type Running, startAll } from '../../platform/queue/runner.ts';
import { JobAttemptFailed, type Jobs } from './jobs.ts';

const CLEANUP_EVERY_MS = 3_600_000;

export function jobWork(jobs: Jobs, opts: { pollMs: number }): PollWork {
  return {
    kind: 'poll',
    name: 'job loop',
    pollMs: opts.pollMs,
    next: () => jobs.processNext(),
    // A job's failed attempt was logged (a warning) where it happened; anything else, such as a database that
    // cannot be reached, is the loop's to report.
    alreadyLogged: (err) => err instanceof JobAttemptFailed,
  };
}

export function uploadCleanupWork(jobs: Jobs, logger?: Logger): PeriodicWork {
  return {
    kind: 'periodic',
    name: 'uploaded files clean-up',
    everyMs: CLEANUP_EVERY_MS,
    firstAfterMs: 0,
    async run() {
      const removed = await jobs.deleteExpiredFiles();
      if (removed > 0) logger?.info({ files: removed }, 'deleted uploaded files past their retention');
    },
  };
}

/** Both entries on their own (tests); a process starts them with the rest of the catalogue. */
export function startJobLoop(jobs: Jobs, opts: { pollMs: number; logger?: Logger }): Running {
  return startAll([jobWork(jobs, opts), uploadCleanupWork(jobs, opts.logger)], { logger: opts.logger });
}
