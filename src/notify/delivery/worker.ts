/**
 * The delivery worker: the notifications table is the queue (DESIGN §1), driven by the queue runner
 * (platform/queue/runner.ts). This file is its catalogue entry: which rows are due, how a batch is handled. The work
 * itself is split in three: rendering.ts (row → message, branding), delivering.ts (provider hand-off, failover,
 * throttling) and outcomes.ts (recording outcomes, many rows per statement).
 *
 * A batch is started row by row as slots free up, so the runner claims the next batch as soon as the last row of
 * this one has started sending: the provider is never left idle while the worker waits on the database.
 *
 * Status: a row stays `created` while it is tried and retried, then ends `delivered` (relay or sink took it),
 * `sending` (taken, a receipt will follow), `permanent-failure`, or `technical-failure` once worker.maxAttempts
 * tries have failed. Rows sent with a test key never reach a provider: they end as testKeyOutcome() says.
 */
import type { Config } from '../../platform/config.ts';
import type { Db } from '../../platform/database/connection.ts';
import { measureQueueAge, reportProviders } from '../../platform/metrics.ts';
import type { Logger, WorkSignal } from '../../platform/queue/background.ts';
import { type Fenced, laneBackoffMs } from '../../platform/queue/claim-queue.ts';
import { type QueueControl, type QueueWork, type Running, runQueue } from '../../platform/queue/runner.ts';
import { testKeyOutcome } from '../../platform/recipients.ts';
import { NOTIFICATION_QUEUE, oldestDueAgeSeconds } from '../repositories/notifications.ts';
import { suppressedRecipients, suppressionKey } from '../repositories/suppressions.ts';
import { PRIORITY_OF_CATEGORY } from '../sending/send-rules.ts';
import { ServiceDirectory } from '../sending/service-directory.ts';
import { createDeliverer } from './delivering.ts';
import { createDeliveryOutcomes, finalFor } from './outcomes.ts';
import { providerChoice } from './providers/failover.ts';
import { createProviders, type Providers } from './providers/index.ts';
import { type ClaimedNotification, createRenderer, smsFragments } from './rendering.ts';

export type { ClaimedNotification } from './rendering.ts';

export interface WorkerOptions {
  db: Db;
  config: Config;
  logger?: Logger;
  /** Defaults to the providers config names; the worker closes only providers it created. */
  providers?: Providers;
  /** The API's directory when both run in one process, so that they share one cache; else one of its own. */
  directory?: ServiceDirectory;
  /** Delay before the next try after `attempts` failed ones; defaults to the lane backoff of claim-queue.ts. */
  retryDelayMs?: (attempts: number, priority: number) => number;
  /** Notifications committed in this process (the API's writer): claimed at once instead of at the next poll. */
  newWork?: WorkSignal;
}

/** Stops claiming, lets sends in flight finish and records them, gives back rows not yet tried; drain() waits for idle. */
export type Worker = Running;

/** The delivery worker's catalogue entry. */
export function deliveryWork(opts: WorkerOptions): QueueWork<ClaimedNotification> {
  const { config } = opts;
  const { batchSize, concurrency, leaseSeconds, pollMs, maxAttempts } = config.worker;
  const retryDelayMs = opts.retryDelayMs ?? laneBackoffMs;
  return {
    kind: 'queue',
    name: 'delivery worker',
    rows: 'notifications',
    lookups: 'services or templates',
    table: NOTIFICATION_QUEUE,
    leaseSeconds,
    batchSize,
    concurrency,
    retries: { maxAttempts, delayMs: (attempts, row) => retryDelayMs(attempts, row.priority) },
    pollMs,
    handler: (control) => deliveryHandler(opts, control),
  };
}

function deliveryHandler(opts: WorkerOptions, control: QueueControl<ClaimedNotification>) {
  const { db, config } = opts;
  const log = opts.logger;
  const { maxAttempts } = config.worker;
  const providers = opts.providers ?? createProviders(config, db, log);
  const directory = opts.directory ?? new ServiceDirectory(db, null);
  const renderer = createRenderer(directory, config.emailDomain, config.bounceSmtpPort !== null);
  const outcomes = createDeliveryOutcomes(db, NOTIFICATION_QUEUE, log);
  const { deliver, gates } = createDeliverer({
    providers,
    renderer,
    outcomes,
    concurrency: config.worker.concurrency,
    retry: (row, response) => control.retry(row, response),
    log,
  });
  // Only an idle worker is woken: a busy one claims again at once after a full batch and otherwise within its poll
  // interval, and waking it on every commit under load would turn its claims into a stream of tiny ones.
  const stopListening = opts.newWork?.subscribe(() => {
    if (control.inFlight === 0) control.wake();
  });
  const unmeasured = [
    measureQueueAge(() => oldestDueSecondsByLane(db), log),
    reportProviders({ channel: 'email', ...providerChoice(providers.email) }),
    reportProviders({ channel: 'sms', ...providerChoice(providers.sms) }),
  ];

  /** Settles the row without a provider if it need not or must not reach one; false to send it. */
  function settledWithoutSending(row: ClaimedNotification, suppressed: Set<string>): boolean {
    if (row.key_type === 'test') {
      const status = testKeyOutcome(row.notification_type, row.to);
      const billableUnits = row.notification_type === 'sms' ? smsFragments(row) : null;
      outcomes.record(finalFor(row, status, { sentAt: new Date(), billableUnits }));
      return true;
    }
    const key = suppressionKey({
      serviceId: row.service_id,
      channel: row.notification_type,
      recipient: row.normalised_to,
    });
    if (suppressed.has(key)) {
      // A hard bounce, complaint or opt-out earlier: fail fast, never bother the provider or the person again.
      const what = row.notification_type === 'email' ? 'email address' : 'phone number';
      const response = `The ${what} is on the service's suppression list`;
      outcomes.settle(row, finalFor(row, 'permanent-failure', { response }), null);
      return true;
    }
    if (row.attempts > maxAttempts) {
      // Only after leases ran out without an outcome, e.g. a message that crashes the worker each time.
      const response = `no outcome after ${maxAttempts} attempts`;
      outcomes.settle(row, finalFor(row, 'technical-failure', { response }), null);
      return true;
    }
    const gate = gates[row.notification_type];
    if (gate.pauseLeftMs() > 0) {
      outcomes.settle(row, { throttled: { id: row.id, attempts: row.attempts, delayMs: gate.pauseLeftMs() } }, null);
      return true;
    }
    return false;
  }

  return {
    async handleBatch(rows: ClaimedNotification[], batch: { startBy: number }): Promise<Fenced[]> {
      rows.sort((a, b) => a.priority - b.priority || a.next_attempt_at.getTime() - b.next_attempt_at.getTime());
      await renderer.load(rows);
      const suppressed = await suppressedRecipients(
        db,
        rows
          .filter((r) => r.key_type !== 'test')
          .map((r) => ({ serviceId: r.service_id, channel: r.notification_type, recipient: r.normalised_to })),
      );
      const untried: ClaimedNotification[] = [];
      for (const row of rows) {
        if (settledWithoutSending(row, suppressed)) continue;
        const gate = gates[row.notification_type];
        while (control.running && (!control.hasRoom() || !gate.hasRoom()) && Date.now() <= batch.startBy) {
          await control.nextCompletion();
        }
        if (!control.running || Date.now() > batch.startBy) {
          untried.push(row);
          continue;
        }
        gate.inFlight += 1;
        control.start(
          deliver(row).finally(() => {
            gate.inFlight -= 1;
          }),
        );
      }
      return untried;
    },
    settled: () => outcomes.settled(),
    async close() {
      stopListening?.();
      for (const forget of unmeasured) forget();
      if (!opts.providers) await providers.close();
    },
  };
}

/** Starts the delivery worker on its own (tests, benchmarks); a process starts it with the rest of the catalogue. */
export function startWorker(opts: WorkerOptions): Worker {
  return runQueue(deliveryWork(opts), { db: opts.db, logger: opts.logger });
}

const LANE_OF_PRIORITY = new Map<number, string>(
  Object.entries(PRIORITY_OF_CATEGORY).map(([lane, priority]) => [priority, lane]),
);

/** How long the oldest notification that is due and not claimed has been due in each lane, in seconds (0 when none): for /metrics. */
export async function oldestDueSecondsByLane(db: Db): Promise<Record<string, number>> {
  const ages = await oldestDueAgeSeconds(db, [...LANE_OF_PRIORITY.keys()]);
  return Object.fromEntries(
    [...ages].map(([priority, age]) => [LANE_OF_PRIORITY.get(priority) ?? String(priority), age]),
  );
}

/** The same over every lane: the oldest of them. */
export async function oldestDueSeconds(db: Db): Promise<number> {
  return Math.max(0, ...Object.values(await oldestDueSecondsByLane(db)));
}
