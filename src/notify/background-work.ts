/**
 * Notify's catalogue of background work, started by the queue runner (platform/queue/runner.ts) in the `start` and
 * `worker` roles. Each entry declares what the runner drives: table, lease, batch, concurrency, retries, poll.
 *
 *  - deliveries (delivery/worker.ts): the notifications queue, rendered, handed to providers, outcomes recorded.
 *  - callbacks (delivery/callbacks/sender.ts): callback_deliveries, sent to services' receivers in per-service lanes.
 *  - bulk jobs (jobs/job-loop.ts): due jobs, claimed one at a time by jobs.ts; and the hourly uploaded-files clean-up.
 *  - the scheduler (delivery/scheduler.ts): every interval, as leader, one run of its three steps: timing out stale
 *    messages, keeping day partitions ahead, applying retention. One entry rather than three because they share one
 *    leader lock and one report per run (three entries would take the lock three times and log three lines).
 *
 * Receipts are not an entry. The receipt applier (delivery/receipts/applier.ts) polls no table: it is an in-memory
 * group-commit batcher fed by the HTTP hooks and the bounce listener, whose callers wait for their batch's commit,
 * with receipts that beat the worker's commit held and retried in memory. Nothing in it is claimed or leased, so the
 * runner's machinery would not fit; it stays its own batcher, built with the API's services (app-services.ts).
 */
import type { Config } from '../platform/config.ts';
import type { Db, DbHandle } from '../platform/database/connection.ts';
import type { Logger, WorkSignal } from '../platform/queue/background.ts';
import type { BackgroundWork } from '../platform/queue/runner.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { callbackWork } from './delivery/callbacks/sender.ts';
import { createScheduler, schedulerWork } from './delivery/scheduler.ts';
import { deliveryWork } from './delivery/worker.ts';
import { jobWork, uploadCleanupWork } from './jobs/job-loop.ts';
import type { Jobs } from './jobs/jobs.ts';
import type { ServiceDirectory } from './sending/service-directory.ts';

export interface NotifyWorkDeps {
  db: Db;
  database: DbHandle;
  config: Config;
  secrets: SecretBox;
  directory: ServiceDirectory;
  jobs: Jobs;
  logger?: Logger;
  /** Notifications committed by the API in this process, when it runs here too (`envoi start`). */
  newWork?: WorkSignal;
}

export function notifyBackgroundWork(deps: NotifyWorkDeps): BackgroundWork[] {
  const { db, database, config, logger } = deps;
  return [
    deliveryWork({ db, config, logger, directory: deps.directory, newWork: deps.newWork }),
    callbackWork({ db, config, secrets: deps.secrets, logger }),
    jobWork(deps.jobs, { pollMs: config.jobs.pollMs }),
    uploadCleanupWork(deps.jobs, logger),
    schedulerWork(createScheduler({ db, database, config, logger }), config.scheduler.intervalMs),
  ];
}
