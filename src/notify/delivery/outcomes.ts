/**
 * Recording the delivery worker's outcomes: each claimed notification ends final (delivered, sending, a failure),
 * goes back for a retry, or goes back untried because its provider asked to slow down. They are written by one
 * outcome writer, many rows per statement, and counted for /metrics.
 */
import type { Db } from '../../platform/database/connection.ts';
import type { Logger } from '../../platform/queue/background.ts';
import { type Fenced, giveBack, type QueueTable } from '../../platform/queue/claim-queue.ts';
import { childOf, deliveries, handoffSeconds } from '../../platform/metrics.ts';
import { type DeliveryFinal as Final, writeDeliveryFinals } from '../repositories/notifications.ts';
import { createOutcomeWriter, type RowOutcome } from './outcome-writer.ts';
import type { ClaimedNotification } from './rendering.ts';

export type Outcome = RowOutcome<Final> | { throttled: Fenced & { delayMs: number } };

export interface DeliveryOutcomes {
  /** Records a row's outcome and counts it; `provider` answered it, null when none was called. */
  settle(row: ClaimedNotification, outcome: Outcome, provider: string | null): void;
  /** Records an outcome that is not a delivery (a test key's made-up one): not counted. */
  record(outcome: Outcome): void;
  /** Measures the hand-off of a message a provider took at `sentAt`. */
  handedOff(row: ClaimedNotification, sentAt: Date): void;
  settled(): Promise<void>;
}

export function createDeliveryOutcomes(db: Db, queue: QueueTable, log?: Logger): DeliveryOutcomes {
  const outcomes = createOutcomeWriter<Final, Outcome>(
    'write outcomes',
    {
      db,
      queue,
      writeFinals: writeDeliveryFinals,
      async writeOthers(batch) {
        // Throttled rows go back with their attempt returned: slowing down is not the message's failure.
        const byDelay = new Map<number, Fenced[]>();
        for (const o of batch)
          if ('throttled' in o)
            byDelay.set(o.throttled.delayMs, [...(byDelay.get(o.throttled.delayMs) ?? []), o.throttled]);
        for (const [delayMs, rows] of byDelay) await giveBack(db, queue, rows, delayMs);
      },
    },
    log,
  );
  const deliveryCount = childOf((channel, provider, status) => deliveries.labels(channel, provider, status));
  const handoff = { email: handoffSeconds.labels('email'), sms: handoffSeconds.labels('sms') };
  return {
    settle(row, outcome, provider) {
      outcomes.add(outcome);
      // Test keys' made-up outcomes are not deliveries.
      if (row.key_type === 'test') return;
      const status = 'final' in outcome ? outcome.final.status : 'retry' in outcome ? 'retry' : 'throttled';
      deliveryCount(row.notification_type, provider ?? 'none', status).inc();
    },
    record: (outcome) => outcomes.add(outcome),
    handedOff(row, sentAt) {
      // From when the row could first be sent: a scheduled one waited for its time on purpose.
      const dueSince = Math.max(row.created_at.getTime(), row.scheduled_for?.getTime() ?? 0);
      handoff[row.notification_type].observe(Math.max(0, sentAt.getTime() - dueSince) / 1000);
    },
    settled: () => outcomes.settled(),
  };
}

export function finalFor(row: ClaimedNotification, status: string, fields: Partial<Final> = {}): { final: Final } {
  return {
    final: {
      id: row.id,
      attempts: row.attempts,
      createdAt: row.created_at,
      status,
      provider: null,
      reference: null,
      response: null,
      sentAt: null,
      billableUnits: null,
      ...fields,
    },
  };
}
