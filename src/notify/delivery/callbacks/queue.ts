/**
 * Queuing callbacks to services. Each function returns an `INSERT … SELECT` to put in a WITH clause of the very
 * statement that changes the status, stores the received text or records the complaint: the change and its
 * callback commit together, so a crash can never keep one and lose the other.
 *
 *   WITH changed AS (UPDATE notifications … RETURNING id, service_id, status, provider_response, updated_at),
 *        queued AS (${queueStatusCallbacks('changed')})
 *   SELECT count(*) FROM changed
 *
 * Rows are queued only for services with an enabled callback of that type; callbacks/sender.ts sends them.
 */
import { sql, type RawBuilder } from 'kysely';

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
