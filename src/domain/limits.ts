/**
 * The two limits every send passes: a per-minute token bucket per service and key type, and a daily message
 * count per service and channel. Neither counts notification rows: the bucket lives in this process, and the
 * daily count is a counter row updated in the same transaction as the notifications it counts.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/connection.ts';
import type { KeyType } from '../db/schema.ts';
import { ApiError } from '../api/v2/errors.ts';

export type LimitChannel = 'email' | 'sms' | 'international_sms';

const KEY_TYPE_LABEL: Record<KeyType, string> = { normal: 'LIVE', team: 'TEAM', test: 'TEST' };

interface Bucket {
  tokens: number;
  updated: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Throws 429 RateLimitError when the service's key type has used its requests for the last 60 s. */
  take(serviceId: string, keyType: KeyType, limitPer60s: number): void {
    const key = `${serviceId}:${keyType}`;
    const capacity = Math.min(Math.ceil(limitPer60s / 3) + 1, 1000, limitPer60s);
    const refillPerMs = limitPer60s / 60_000;
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: capacity, updated: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + (now - bucket.updated) * refillPerMs);
    bucket.updated = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) {
      throw new ApiError(
        429,
        'RateLimitError',
        `Exceeded rate limit for key type ${KEY_TYPE_LABEL[keyType]} of ${limitPer60s} requests per 60 seconds`,
      );
    }
    bucket.tokens -= 1;
  }
}

interface DayCount {
  day: string;
  /** Last figure read from the database (includes other replicas' sends). */
  stored: number;
  /** Sends reserved here and not yet committed. */
  reserved: number;
  loaded: Promise<void> | null;
}

let cachedDay = { number: -1, text: '' };

/** Today's UTC date as YYYY-MM-DD; formatted once a day, since every send asks for it. */
export function utcDay(date = new Date()): string {
  const number = Math.floor(date.getTime() / 86_400_000);
  if (number !== cachedDay.number) cachedDay = { number, text: date.toISOString().slice(0, 10) };
  return cachedDay.text;
}

export class DailyLimits {
  private readonly counts = new Map<string, DayCount>();

  constructor(private readonly db: Db) {}

  private entry(serviceId: string, channel: LimitChannel): DayCount {
    const key = `${serviceId}:${channel}`;
    const day = utcDay();
    let entry = this.counts.get(key);
    if (!entry || entry.day !== day) {
      entry = { day, stored: 0, reserved: 0, loaded: null };
      this.counts.set(key, entry);
      const fresh = entry;
      fresh.loaded = this.db
        .selectFrom('daily_send_counts')
        .select('sent')
        .where('service_id', '=', serviceId)
        .where('day', '=', day)
        .where('channel', '=', channel)
        .executeTakeFirst()
        .then((row) => {
          fresh.stored = Math.max(fresh.stored, row?.sent ?? 0);
        });
      fresh.loaded.catch(() => this.counts.delete(key));
    }
    return entry;
  }

  /**
   * Reserves `count` messages (one send, or a job's rows) against each channel's daily limit, or throws 429
   * TooManyRequestsError. The caller must later `commit` (inside the insert's transaction) or `release` it.
   */
  async reserve(serviceId: string, limits: Partial<Record<LimitChannel, number>>, count = 1): Promise<Reservation> {
    const entries: Array<[LimitChannel, DayCount]> = [];
    for (const channel of Object.keys(limits) as LimitChannel[]) {
      const entry = this.entry(serviceId, channel);
      if (entry.loaded) await entry.loaded;
      entries.push([channel, entry]);
    }
    for (const [channel, entry] of entries) {
      const limit = limits[channel]!;
      if (entry.stored + entry.reserved + count > limit) {
        throw new ApiError(429, 'TooManyRequestsError', `Exceeded send limits (${channel}: ${limit}) for today`);
      }
    }
    for (const [, entry] of entries) entry.reserved += count;
    return new Reservation(serviceId, entries, count);
  }

  /** How many messages the service may still send today on a channel (for later CSV checks). */
  async remaining(serviceId: string, channel: LimitChannel, limit: number): Promise<number> {
    const entry = this.entry(serviceId, channel);
    if (entry.loaded) await entry.loaded;
    return Math.max(0, limit - entry.stored - entry.reserved);
  }

  /**
   * Adds the reservations' counts to the counter rows within `trx`. Returns what to run once the transaction
   * has committed (on rollback, `release` each reservation instead).
   */
  async commit(trx: Db, reservations: Reservation[]): Promise<() => void> {
    const counters = this.counterUpsert(reservations);
    const { rows } = await counters.statement.execute(trx);
    return () => counters.apply(rows);
  }

  /**
   * One statement that adds the reservations' counts to their counter rows, for callers that run it themselves
   * (the notification writer makes it the tail of its insert, so a batch costs one round trip), and what to
   * apply to the in-memory counts with its rows once committed.
   */
  counterUpsert(reservations: Reservation[]): { statement: RawBuilder<CounterRow>; apply(rows: CounterRow[]): void } {
    const totals = new Map<string, { serviceId: string; channel: LimitChannel; n: number; entry: DayCount }>();
    for (const r of reservations) {
      for (const [channel, entry] of r.entries) {
        const key = `${r.serviceId}:${channel}:${entry.day}`;
        const t = totals.get(key) ?? { serviceId: r.serviceId, channel, n: 0, entry };
        t.n += r.count;
        totals.set(key, t);
      }
    }
    const ts = [...totals.values()];
    const statement = sql<CounterRow>`
      INSERT INTO daily_send_counts (service_id, day, channel, sent)
      SELECT * FROM unnest(${ts.map((t) => t.serviceId)}::uuid[], ${ts.map((t) => t.entry.day)}::date[],
                           ${ts.map((t) => t.channel)}::text[], ${ts.map((t) => t.n)}::int4[])
      ON CONFLICT (service_id, day, channel) DO UPDATE SET sent = daily_send_counts.sent + excluded.sent
      RETURNING service_id::text AS service_id, channel, sent`;
    return {
      statement,
      apply(rows) {
        for (const t of ts) {
          const row = rows.find((r) => r.service_id === t.serviceId && r.channel === t.channel);
          // Our reservations are now part of the stored figure, which also includes other replicas' sends.
          t.entry.stored = Math.max(t.entry.stored + t.n, row?.sent ?? 0);
          t.entry.reserved -= t.n;
        }
      },
    };
  }

  release(reservation: Reservation): void {
    for (const [, entry] of reservation.entries) entry.reserved -= reservation.count;
  }

  /** Gives back messages counted on `day` that will not be sent after all (a job cancelled before it ran). */
  async refund(serviceId: string, day: string, counts: Partial<Record<LimitChannel, number>>): Promise<void> {
    for (const [channel, n] of Object.entries(counts) as Array<[LimitChannel, number]>) {
      if (!n) continue;
      await this.db
        .updateTable('daily_send_counts')
        .set({ sent: sql<number>`greatest(0, sent - ${n})` })
        .where('service_id', '=', serviceId)
        .where('day', '=', day)
        .where('channel', '=', channel)
        .execute();
      const entry = this.counts.get(`${serviceId}:${channel}`);
      if (entry && entry.day === day) entry.stored = Math.max(0, entry.stored - n);
    }
  }
}

export interface CounterRow {
  service_id: string;
  channel: string;
  sent: number;
}

export class Reservation {
  constructor(
    readonly serviceId: string,
    readonly entries: Array<[LimitChannel, DayCount]>,
    readonly count = 1,
  ) {}
}
