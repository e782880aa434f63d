/**
 * The daily send counters (daily_send_counts): a service's messages per UTC day and channel, kept in shards so
 * that statements running at once each update their own row rather than wait on one another's row lock. A day's
 * figure is the sum of its shards.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../../platform/database/connection.ts';

/** Messages to add to a service's counter of a day and channel. */
export interface DailyCountAdd {
  serviceId: string;
  day: string;
  channel: string;
  n: number;
}

/** A counter row after an add: `sent` is the day's total over every shard. */
export interface CounterRow {
  service_id: string;
  channel: string;
  sent: number;
}

/**
 * The statement that adds `adds` to their counters on `shard` (statements that may run at once take different
 * shards) and returns each day's total. `adds` must come in one order for every writer (service, then channel), so
 * that two statements on the same shard updating the same services' rows cannot deadlock.
 */
export function dailyCountsUpsert(adds: readonly DailyCountAdd[], shard: number): RawBuilder<CounterRow> {
  // The other shards are read as of the statement's start: a batch committing beside it is seen next time.
  return sql<CounterRow>`
      INSERT INTO daily_send_counts AS c (service_id, day, channel, shard, sent)
      SELECT t.service_id, t.day, t.channel, ${shard}::int2, t.n
      FROM unnest(${adds.map((t) => t.serviceId)}::uuid[], ${adds.map((t) => t.day)}::date[],
                  ${adds.map((t) => t.channel)}::text[], ${adds.map((t) => t.n)}::int4[]) AS t(service_id, day, channel, n)
      ON CONFLICT (service_id, day, channel, shard) DO UPDATE SET sent = c.sent + excluded.sent
      RETURNING c.service_id::text AS service_id, c.channel,
        (c.sent + coalesce((SELECT sum(o.sent) FROM daily_send_counts o
                            WHERE o.service_id = c.service_id AND o.day = c.day AND o.channel = c.channel
                              AND o.shard <> c.shard), 0))::int4 AS sent`;
}

/** Adds `adds` to their counters on shard 0 (within the caller's transaction); resolves the days' totals. */
export async function addDailyCounts(db: Db, adds: readonly DailyCountAdd[]): Promise<CounterRow[]> {
  return (await dailyCountsUpsert(adds, 0).execute(db)).rows;
}

/** An add with the limit its counter may not pass. */
export interface LimitedCountAdd extends DailyCountAdd {
  limit: number;
}

/**
 * Near a daily limit: adds `adds` within `trx` only if each day's total stays within its limit, checked against
 * every shard's committed figure. The advisory lock makes such writers take turns; FOR UPDATE waits for batches in
 * flight on any shard. `adds` in the order of counterAdds, so that lockers never wait on one another in a circle.
 * Resolves the totals, or the first add that would pass its limit.
 */
export async function addDailyCountsWithin(
  trx: Db,
  adds: readonly LimitedCountAdd[],
): Promise<{ rows: CounterRow[] } | { over: LimitedCountAdd }> {
  for (const a of adds) {
    const key = `daily:${a.serviceId}:${a.channel}:${a.day}`;
    await sql`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(trx);
    const { rows } = await sql<{ sent: number }>`
        SELECT sent FROM daily_send_counts
        WHERE service_id = ${a.serviceId} AND day = ${a.day} AND channel = ${a.channel}
        ORDER BY shard FOR UPDATE`.execute(trx);
    const total = rows.reduce((sum, r) => sum + r.sent, 0);
    if (total + a.n > a.limit) return { over: a };
  }
  return { rows: await addDailyCounts(trx, adds) };
}

/** Takes `n` off the service's counter of a day and channel (on shard 0, which may go below zero), never more than the day's total. */
export async function subtractDailyCount(
  db: Db,
  serviceId: string,
  day: string,
  channel: string,
  n: number,
): Promise<void> {
  await sql`
        INSERT INTO daily_send_counts AS c (service_id, day, channel, shard, sent)
        SELECT ${serviceId}::uuid, ${day}::date, ${channel}, 0, -least(${n}::int4, coalesce(sum(o.sent), 0)::int4)
        FROM daily_send_counts o WHERE o.service_id = ${serviceId} AND o.day = ${day} AND o.channel = ${channel}
        ON CONFLICT (service_id, day, channel, shard) DO UPDATE SET sent = c.sent + excluded.sent`.execute(db);
}

/** Messages counted for a service on a day and channel: the sum of the counter's shards. */
export async function dailyCount(db: Db, serviceId: string, day: string, channel: string): Promise<number> {
  const row = await db
    .selectFrom('daily_send_counts')
    .select(sql<number>`coalesce(sum(sent), 0)::int4`.as('sent'))
    .where('service_id', '=', serviceId)
    .where('day', '=', day)
    .where('channel', '=', channel)
    .executeTakeFirst();
  return row?.sent ?? 0;
}

/** A service's messages counted on a day per channel, summed over the counter's shards. */
export async function dailyCountsByChannel(
  db: Db,
  serviceId: string,
  day: string,
): Promise<Array<{ channel: string; sent: number }>> {
  return db
    .selectFrom('daily_send_counts')
    .select(['channel', sql<number>`sum(sent)::int4`.as('sent')])
    .where('service_id', '=', serviceId)
    .where('day', '=', day)
    .groupBy('channel')
    .execute();
}
