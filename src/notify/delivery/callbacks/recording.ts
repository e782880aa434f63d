/**
 * Recording the callback sender's outcomes: many rows per statement through one outcome writer, counted for
 * /metrics; and disabling a callback whose receiver answered 410 Gone.
 */
import { sql } from 'kysely';
import type { Db } from '../../../platform/database/connection.ts';
import { callbacksTotal, childOf } from '../../../platform/metrics.ts';
import { type Logger, withRetries } from '../../../platform/queue/background.ts';
import { type Fenced, type QueueTable, type Retry, release } from '../../../platform/queue/claim-queue.ts';
import { createOutcomeWriter } from '../outcome-writer.ts';
import type { ClaimedCallback } from './preparing.ts';
import { short } from './responses.ts';

export interface Final extends Fenced {
  state: 'delivered' | 'failed' | 'dropped';
  response: string;
}

export type CallbackOutcome = { final: Final } | { retry: Retry };

export interface CallbackOutcomes {
  /** Records a row's outcome and counts it for /metrics (`disabled`: the receiver answered 410 Gone). */
  record(row: ClaimedCallback, outcome: CallbackOutcome, disabled?: boolean): void;
  settled(): Promise<void>;
}

export function createCallbackOutcomes(db: Db, queue: QueueTable, log?: Logger): CallbackOutcomes {
  const outcomes = createOutcomeWriter<CallbackOutcome>(
    'write callback outcomes',
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
    },
    log,
  );
  const callbackCount = childOf((kind, result) => callbacksTotal.labels(kind, result));
  return {
    record(row, outcome, disabled = false) {
      outcomes.add(outcome);
      const result = disabled ? 'disabled' : 'final' in outcome ? outcome.final.state : 'retry';
      callbackCount(row.callback_type, result).inc();
    },
    settled: () => outcomes.settled(),
  };
}

export function finalFor(row: ClaimedCallback, state: Final['state'], response: string): { final: Final } {
  return { final: { id: row.id, attempts: row.attempts, state, response: short(response) } };
}

async function writeFinals(db: Db, rows: Final[]): Promise<void> {
  if (rows.length === 0) return;
  // `attempts` fences out a sender whose lease ran out; `state = 'pending'` keeps a drop made meanwhile (410).
  await sql`
    UPDATE callback_deliveries AS d
    SET state = v.state, last_response = v.response, claimed_until = NULL, updated_at = now()
    FROM unnest(
      ${rows.map((r) => r.id)}::uuid[],
      ${rows.map((r) => r.attempts)}::int[],
      ${rows.map((r) => r.state)}::text[],
      ${rows.map((r) => r.response)}::text[]
    ) AS v(id, attempts, state, response)
    WHERE d.id = v.id AND d.attempts = v.attempts AND d.state = 'pending'`.execute(db);
}

/**
 * The receiver says it is gone for good: stop queuing for it and drop what is queued. Only if the URL is still
 * the one that answered, so that a service that has just set a new URL keeps it.
 */
export async function disableCallback(db: Db, row: ClaimedCallback, url: string, log?: Logger): Promise<void> {
  const reason = `${url} answered 410 Gone`;
  await withRetries(
    'disable a callback',
    async () => {
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('service_callbacks')
          .set({ disabled_at: new Date(), disabled_reason: reason, updated_at: new Date() })
          .where('service_id', '=', row.service_id)
          .where('callback_type', '=', row.callback_type)
          .where('url', '=', url)
          .where('disabled_at', 'is', null)
          .execute();
        await trx
          .updateTable('callback_deliveries')
          .set({
            state: 'dropped',
            last_response: short(`callback disabled: ${reason}`),
            claimed_until: null,
            updated_at: new Date(),
          })
          .where('service_id', '=', row.service_id)
          .where('callback_type', '=', row.callback_type)
          .where('state', '=', 'pending')
          .where('id', '<>', row.id)
          .execute();
      });
    },
    log,
  );
  log?.warn(
    { serviceId: row.service_id, type: row.callback_type, url },
    'callback disabled: the receiver answered 410 Gone',
  );
}
