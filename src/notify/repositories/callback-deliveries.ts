/**
 * Callbacks to services (callback_deliveries): queued in the very statement that changes a status, stores a
 * received text or records a complaint; claimed and leased as a queue (CALLBACK_QUEUE) by the callback sender; their
 * outcomes written many rows per statement.
 *
 * The queue* functions each return an `INSERT … SELECT` to put in a WITH clause of the statement that makes the
 * change: the change and its callback commit together, so a crash can never keep one and lose the other.
 *
 *   WITH changed AS (UPDATE notifications … RETURNING id, service_id, status, provider_response, updated_at),
 *        queued AS (${queueStatusCallbacks('changed')})
 *   SELECT count(*) FROM changed
 *
 * Rows are queued only for services with an enabled callback of that type; delivery/callbacks/sender.ts sends them.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../../platform/database/connection.ts';
import type { CallbackType } from '../vocabulary.ts';
import type { Fenced, QueueTable } from '../../platform/queue/claim-queue.ts';

/** The statuses a delivery-status callback reports (notify-api-v2.md §8): outcomes, never created/sending/pending. */
export const CALLBACK_STATUSES = [
  'delivered',
  'sent',
  'permanent-failure',
  'temporary-failure',
  'technical-failure',
] as const;

const CALLBACK_STATUS_LIST = sql.join(CALLBACK_STATUSES.map((s) => sql.lit(s)));

function enabled(type: string, alias: string): RawBuilder<unknown> {
  return sql`EXISTS (SELECT 1 FROM service_callbacks c
    WHERE c.service_id = ${sql.ref(`${alias}.service_id`)} AND c.callback_type = ${sql.lit(type)} AND c.disabled_at IS NULL)`;
}

/** `changed` names a CTE with the columns id, service_id, status, provider_response and updated_at of notifications. */
export function queueStatusCallbacks(changed: string): RawBuilder<unknown> {
  return sql`INSERT INTO callback_deliveries (service_id, callback_type, subject_id, status, provider_response, status_at)
    SELECT u.service_id, 'delivery_status', u.id, u.status, u.provider_response, coalesce(u.updated_at, now())
    FROM ${sql.table(changed)} AS u
    WHERE u.status IN (${CALLBACK_STATUS_LIST}) AND ${enabled('delivery_status', 'u')}`;
}

/** `received` names a CTE with the columns id and service_id of received_texts. */
export function queueInboundCallbacks(received: string): RawBuilder<unknown> {
  return sql`INSERT INTO callback_deliveries (service_id, callback_type, subject_id)
    SELECT r.service_id, 'inbound_sms', r.id FROM ${sql.table(received)} AS r WHERE ${enabled('inbound_sms', 'r')}`;
}

/** `complained` names a CTE with the columns id and service_id of complaints. */
export function queueComplaintCallbacks(complained: string): RawBuilder<unknown> {
  return sql`INSERT INTO callback_deliveries (service_id, callback_type, subject_id)
    SELECT k.service_id, 'complaint', k.id FROM ${sql.table(complained)} AS k WHERE ${enabled('complaint', 'k')}`;
}

export const CALLBACK_QUEUE: QueueTable = {
  table: 'callback_deliveries',
  idType: 'uuid',
  due: sql`state = 'pending' AND next_attempt_at <= now()`,
  orderBy: ['next_attempt_at'],
  returning: [
    'id',
    'service_id',
    'callback_type',
    'subject_id',
    'status',
    'provider_response',
    'status_at',
    'created_at',
    'attempts',
  ],
  noteColumn: 'last_response',
  touchColumn: 'updated_at',
};

/** The same queue, leaving out these services (the callback sender's full lanes). */
export function callbackQueueExcluding(serviceIds: string[]): QueueTable {
  if (serviceIds.length === 0) return CALLBACK_QUEUE;
  return { ...CALLBACK_QUEUE, due: sql`${CALLBACK_QUEUE.due} AND NOT (service_id = ANY(${serviceIds}::uuid[]))` };
}

/** A callback's final outcome, fenced by the attempt that reached it. */
export interface CallbackFinal extends Fenced {
  state: 'delivered' | 'failed' | 'dropped';
  response: string;
}

export async function writeCallbackFinals(db: Db, rows: CallbackFinal[]): Promise<void> {
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
 * Disables the service's callback of this type if its URL is still `url` (a service that has just set a new URL
 * keeps it), and drops its other pending rows with `response` as their last response, in one transaction.
 */
export async function disableCallbackAndDropPending(
  db: Db,
  row: { id: string; service_id: string; callback_type: CallbackType },
  url: string,
  reason: string,
  response: string,
): Promise<void> {
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
        last_response: response,
        claimed_until: null,
        updated_at: new Date(),
      })
      .where('service_id', '=', row.service_id)
      .where('callback_type', '=', row.callback_type)
      .where('state', '=', 'pending')
      .where('id', '<>', row.id)
      .execute();
  });
}

/** Counted up to this many: the backlog's gauge must stay cheap however far a receiver has fallen behind. */
const BACKLOG_COUNT_CAP = 100_000;

/**
 * The callbacks still pending (counted up to BACKLOG_COUNT_CAP) and how long the oldest due, unclaimed one has been
 * due, in seconds (0 when none): for /metrics. Both read the partial index callback_deliveries_due.
 */
export async function callbackBacklog(db: Db): Promise<{ pending: number; oldestDueSeconds: number }> {
  const { rows } = await sql<{ pending: number; age: number | null }>`
    SELECT
      (SELECT count(*)::int FROM (
        SELECT 1 FROM callback_deliveries WHERE state = 'pending' LIMIT ${BACKLOG_COUNT_CAP}
      ) AS capped) AS pending,
      (SELECT extract(epoch FROM now() - next_attempt_at)::float8 FROM callback_deliveries
        WHERE (${CALLBACK_QUEUE.due}) AND (claimed_until IS NULL OR claimed_until < now())
        ORDER BY next_attempt_at LIMIT 1) AS age`.execute(db);
  const row = rows[0];
  return { pending: Number(row?.pending ?? 0), oldestDueSeconds: Math.max(0, Number(row?.age ?? 0)) };
}
