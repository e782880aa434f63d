/**
 * Recording the callback sender's outcomes: many rows per statement through one outcome writer, counted for
 * /metrics; and disabling a callback whose receiver answered 410 Gone.
 */
import type { Db } from '../../../platform/database/connection.ts';
import { callbacksTotal, childOf } from '../../../platform/metrics.ts';
import { type Logger, withRetries } from '../../../platform/queue/background.ts';
import type { QueueTable } from '../../../platform/queue/claim-queue.ts';
import {
  type CallbackFinal,
  disableCallbackAndDropPending,
  writeCallbackFinals,
} from '../../repositories/callback-deliveries.ts';
import { createOutcomeWriter, type RowOutcome } from '../outcome-writer.ts';
import type { ClaimedCallback } from './preparing.ts';
import { short } from './responses.ts';

export type Final = CallbackFinal;

export type CallbackOutcome = RowOutcome<Final>;

export interface CallbackOutcomes {
  /** Records a row's outcome and counts it for /metrics (`disabled`: the receiver answered 410 Gone). */
  record(row: ClaimedCallback, outcome: CallbackOutcome, disabled?: boolean): void;
  settled(): Promise<void>;
}

export function createCallbackOutcomes(db: Db, queue: QueueTable, log?: Logger): CallbackOutcomes {
  const outcomes = createOutcomeWriter<Final, CallbackOutcome>(
    'write callback outcomes',
    { db, queue, writeFinals: writeCallbackFinals },
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

/**
 * The receiver says it is gone for good: stop queuing for it and drop what is queued. Only if the URL is still
 * the one that answered, so that a service that has just set a new URL keeps it.
 */
export async function disableCallback(db: Db, row: ClaimedCallback, url: string, log?: Logger): Promise<void> {
  const reason = `${url} answered 410 Gone`;
  await withRetries(
    'disable a callback',
    async () => {
      await disableCallbackAndDropPending(db, row, url, reason, short(`callback disabled: ${reason}`));
    },
    log,
  );
  log?.warn(
    { serviceId: row.service_id, type: row.callback_type, url },
    'callback disabled: the receiver answered 410 Gone',
  );
}
