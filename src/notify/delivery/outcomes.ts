/**
 * Recording the delivery worker's outcomes: each claimed notification ends final (delivered, sending, a failure),
 * goes back for a retry, or goes back untried because its provider asked to slow down. They are written by one
 * outcome writer, many rows per statement, and counted for /metrics.
 */
import { sql } from 'kysely';
import { prepared, type Db } from '../../platform/database/connection.ts';
import type { Logger } from '../../platform/queue/background.ts';
import { type Fenced, giveBack, type QueueTable, type Retry, release } from '../../platform/queue/claim-queue.ts';
import { childOf, deliveries, handoffSeconds } from '../../platform/metrics.ts';
import { queueStatusCallbacks } from './callbacks/queue.ts';
import { createOutcomeWriter } from './outcome-writer.ts';
import type { ClaimedNotification } from './rendering.ts';

/** A final outcome for one row. */
export interface Final extends Fenced {
  /** The row's created_at: it names the day partition, so the UPDATE is planned against that day alone. */
  createdAt: Date;
  status: string;
  provider: string | null;
  reference: string | null;
  response: string | null;
  /** When the provider took the message; null when it never did. */
  sentAt: Date | null;
  /** Text message fragments; null keeps the row's own. */
  billableUnits: number | null;
}

export type Outcome = { final: Final } | { retry: Retry } | { throttled: Fenced & { delayMs: number } };

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
  const outcomes = createOutcomeWriter<Outcome>(
    'write outcomes',
    async (batch) => {
      await writeFinals(
        db,
        batch.flatMap((o) => ('final' in o ? [o.final] : [])),
      );
      await release(
        db,
        queue,
        batch.flatMap((o) => ('retry' in o ? [o.retry] : [])),
      );
      // Throttled rows go back with their attempt returned: slowing down is not the message's failure.
      const byDelay = new Map<number, Fenced[]>();
      for (const o of batch)
        if ('throttled' in o)
          byDelay.set(o.throttled.delayMs, [...(byDelay.get(o.throttled.delayMs) ?? []), o.throttled]);
      for (const [delayMs, rows] of byDelay) await giveBack(db, queue, rows, delayMs);
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

async function writeFinals(db: Db, rows: Final[]): Promise<void> {
  if (rows.length === 0) return;
  // `attempts` fences out a worker whose lease ran out; `status = 'created'` keeps a cancellation made meanwhile.
  // The services' delivery-status callbacks are queued by the same statement.
  await sql`${prepared}
    WITH changed AS (
    UPDATE notifications AS n
    SET status = v.status,
        provider = coalesce(v.provider, n.provider),
        provider_reference = coalesce(v.reference, n.provider_reference),
        provider_response = coalesce(v.response, n.provider_response),
        sent_at = coalesce(v.sent_at, n.sent_at),
        billable_units = coalesce(v.billable_units, n.billable_units),
        claimed_until = NULL,
        updated_at = now()
    FROM unnest(
      ${rows.map((r) => r.id)}::uuid[],
      ${rows.map((r) => r.attempts)}::int[],
      ${rows.map((r) => r.status)}::text[],
      ${rows.map((r) => r.provider)}::text[],
      ${rows.map((r) => r.reference)}::text[],
      ${rows.map((r) => r.response)}::text[],
      ${rows.map((r) => (r.sentAt ? r.sentAt.toISOString() : null))}::timestamptz[],
      ${rows.map((r) => r.billableUnits)}::int[]
    ) AS v(id, attempts, status, provider, reference, response, sent_at, billable_units)
    WHERE n.id = v.id AND n.attempts = v.attempts AND n.status = 'created'
      AND n.created_at BETWEEN ${oldest(rows)} AND ${newest(rows)}
    RETURNING n.id, n.service_id, n.status, n.provider_response, n.updated_at),
    queued AS (${queueStatusCallbacks('changed')})
    SELECT count(*) FROM changed`.execute(db);
}

function oldest(rows: readonly { createdAt: Date }[]): Date {
  return new Date(Math.min(...rows.map((r) => r.createdAt.getTime())));
}

/** One millisecond past the newest: PostgreSQL keeps microseconds, a Date only milliseconds. */
function newest(rows: readonly { createdAt: Date }[]): Date {
  return new Date(Math.max(...rows.map((r) => r.createdAt.getTime())) + 1);
}
