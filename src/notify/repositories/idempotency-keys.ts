/**
 * The Idempotency-Keys of sends (idempotency_keys): found again within 24 hours of the send that stored them. They are
 * inserted by the statement that inserts their notifications (notifications.ts), so that a crash cannot keep one
 * without the other.
 */
import { sql } from 'kysely';
import type { Db } from '../../platform/database/connection.ts';

/** A key to store with the notification its send creates. */
export interface NewIdempotencyKey {
  service_id: string;
  key: string;
  request_hash: string;
  response: unknown;
}

/** How long a key answers for its send. */
const KEPT = sql`interval '24 hours'`;

/** The service's key, with whether its 24 hours are over; null when it has none. */
export async function findIdempotencyKey(
  db: Db,
  serviceId: string,
  key: string,
): Promise<{ requestHash: string; response: unknown; expired: boolean } | null> {
  const row = await db
    .selectFrom('idempotency_keys')
    .select(['request_hash', 'response', sql<boolean>`created_at < now() - ${KEPT}`.as('expired')])
    .where('service_id', '=', serviceId)
    .where('key', '=', key)
    .executeTakeFirst();
  return row ? { requestHash: row.request_hash, response: row.response, expired: row.expired } : null;
}

/** Forgets the service's key if its 24 hours are over, so that it may be used again. */
export async function forgetExpiredIdempotencyKey(db: Db, serviceId: string, key: string): Promise<void> {
  await db
    .deleteFrom('idempotency_keys')
    .where('service_id', '=', serviceId)
    .where('key', '=', key)
    .where(sql<boolean>`created_at < now() - ${KEPT}`)
    .execute();
}

/** Forgets every key whose 24 hours are over (the scheduler's retention); resolves how many. */
export async function deleteExpiredIdempotencyKeys(db: Db): Promise<number> {
  const result = await db
    .deleteFrom('idempotency_keys')
    .where(sql<boolean>`created_at < now() - ${KEPT}`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** The tail of an insert statement that stores `keys` with it (a data-modifying WITH item). */
export function idempotencyKeysInsert(keys: readonly NewIdempotencyKey[]) {
  return sql`keyed AS (
          INSERT INTO idempotency_keys (service_id, key, request_hash, response)
          SELECT service_id, key, request_hash, response
          FROM json_populate_recordset(NULL::idempotency_keys, ${JSON.stringify(keys)}::json)
          RETURNING 1),`;
}
