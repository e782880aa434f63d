/** The API rate limit's shared counters (api_rate_counters): tokens taken per service and key type by every replica. */
import { sql } from 'kysely';
import type { Db } from '../../platform/database/connection.ts';
import type { KeyType } from '../vocabulary.ts';

export interface RateCounterRow {
  /** 1-based, in the order of the keys. */
  position: number | string;
  taken: number | string;
}

/**
 * Adds each key's tokens (`sent`, in the order of `keys`) to its counter and reads back the totals. Keys with
 * nothing to add are only read, so an idle second writes no row; a deleted service's tokens are skipped rather than
 * failing the whole statement. `keys` must come in one order for every replica, so that two statements updating the
 * same rows cannot deadlock.
 */
export async function addRateCounters(
  db: Db,
  keys: readonly { serviceId: string; keyType: KeyType }[],
  sent: number[],
): Promise<RateCounterRow[]> {
  const { rows } = await sql<RateCounterRow>`
    WITH mine AS (
      SELECT * FROM unnest(${keys.map((b) => b.serviceId)}::uuid[], ${keys.map((b) => b.keyType)}::text[],
                           ${sent}::int8[]) WITH ORDINALITY AS m(service_id, key_type, taken, position)
    ), added AS (
      INSERT INTO api_rate_counters (service_id, key_type, taken)
      SELECT m.service_id, m.key_type, m.taken FROM mine m
      WHERE m.taken > 0 AND EXISTS (SELECT 1 FROM services s WHERE s.id = m.service_id)
      ORDER BY m.position
      ON CONFLICT (service_id, key_type) DO UPDATE SET taken = api_rate_counters.taken + excluded.taken
      RETURNING service_id, key_type, taken
    )
    SELECT m.position, a.taken FROM added a JOIN mine m USING (service_id, key_type)
    UNION ALL
    SELECT m.position, c.taken FROM api_rate_counters c JOIN mine m USING (service_id, key_type) WHERE m.taken = 0`.execute(
    db,
  );
  return rows;
}
