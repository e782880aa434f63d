/**
 * The two limits every send passes: a per-minute token bucket per service and key type, and a daily message
 * count per service and channel. Neither counts notification rows: the bucket lives in this process (replicas
 * share what they took through a counter row, about once a second), and the daily count is a counter row
 * updated in the same transaction as the notifications it counts.
 */
import type { Db } from '../../platform/database/connection.ts';
import type { KeyType } from '../vocabulary.ts';
import { addRateCounters, type RateCounterRow } from '../repositories/api-rate-counters.ts';
import {
  addDailyCounts,
  type CounterRow,
  type DailyCountAdd,
  dailyCount,
  dailyCountsByChannel,
  subtractDailyCount,
} from '../repositories/daily-send-counts.ts';
import { type LimitChannel, SendRefused } from './refusals.ts';

interface Bucket {
  serviceId: string;
  keyType: KeyType;
  tokens: number;
  updated: number;
  capacity: number;
  refillPerMs: number;
  /** Last call to take(), allowed or not. */
  used: number;
  /** Tokens taken here since they were last added to the shared counter. */
  pending: number;
  /** The shared counter as this process last read it; null until its first sync. */
  seen: number | null;
  /** When `seen` was read (this.now()). */
  seenAt: number;
}

export interface RateLimiterOptions {
  /** Where replicas share what they took; without it the limit is this process's alone. */
  db?: Db;
  now?: () => number;
  /** How often start()'s timer syncs with the other replicas. */
  syncMs?: number;
  /** A key unused this long, with its bucket full again, is forgotten. */
  idleMs?: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly db: Db | null;
  private readonly now: () => number;
  private readonly syncMs: number;
  private readonly idleMs: number;
  private syncing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private onError: (err: unknown) => void = () => {};

  constructor(opts: RateLimiterOptions = {}) {
    this.db = opts.db ?? null;
    this.now = opts.now ?? Date.now;
    this.syncMs = opts.syncMs ?? 1000;
    // Two minutes: longer than any bucket takes to refill from empty (60 s at most).
    this.idleMs = opts.idleMs ?? 120_000;
  }

  /** Refuses ('rate-limit') when the service's key type has used its requests for the last 60 s. */
  take(serviceId: string, keyType: KeyType, limitPer60s: number): void {
    const key = `${serviceId}:${keyType}`;
    const capacity = Math.min(Math.ceil(limitPer60s / 3) + 1, 1000, limitPer60s);
    const refillPerMs = limitPer60s / 60_000;
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = {
        serviceId,
        keyType,
        tokens: capacity,
        updated: now,
        capacity,
        refillPerMs,
        used: now,
        pending: 0,
        seen: null,
        seenAt: now,
      };
      this.buckets.set(key, bucket);
    }
    bucket.capacity = capacity;
    bucket.refillPerMs = refillPerMs;
    bucket.used = now;
    refill(bucket, now);
    if (bucket.tokens < 1) {
      throw new SendRefused({ code: 'rate-limit', keyType, limit: limitPer60s });
    }
    bucket.tokens -= 1;
    bucket.pending += 1;
  }

  /**
   * Adds the tokens taken here to the shared counters and takes from the local buckets what the other replicas
   * took since the last sync, in one statement. Never runs two at once: a call waits for the one in flight.
   */
  sync(): Promise<void> {
    const run = (this.syncing ?? Promise.resolve()).then(() => this.syncOnce());
    const settled = run.catch(() => {});
    this.syncing = settled;
    void settled.then(() => {
      if (this.syncing === settled) this.syncing = null;
    });
    return run;
  }

  /** Syncs about once a second until stop(); `onError` hears of a sync that failed (requests never do). */
  start(onError: (err: unknown) => void = () => {}): void {
    if (this.timer || !this.db) return;
    this.onError = onError;
    this.timer = setInterval(() => {
      // A slow database delays the next sync rather than queueing more of them.
      if (!this.syncing) this.sync().catch(this.onError);
    }, this.syncMs);
    this.timer.unref();
  }

  /** Ends the timer and hands the other replicas what this process took since its last sync. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.db) await this.sync().catch(this.onError);
  }

  private async syncOnce(): Promise<void> {
    if (!this.db || this.buckets.size === 0) return;
    // One order for every replica, so that two statements updating the same rows cannot deadlock.
    const batch = [...this.buckets.values()].sort(
      (a, b) => compare(a.serviceId, b.serviceId) || compare(a.keyType, b.keyType),
    );
    const sent = batch.map((b) => b.pending);
    for (const b of batch) b.pending = 0;
    let rows: RateCounterRow[];
    try {
      rows = await addRateCounters(this.db, batch, sent);
    } catch (err) {
      // Whether the counts were added is unknown: rather than count them twice, the next reading is a new
      // baseline (so a failure loses at most a second of sharing, never charges a replica for its own tokens).
      for (const b of batch) b.seen = null;
      throw err;
    }
    const totals = new Map(rows.map((r) => [Number(r.position) - 1, Number(r.taken)]));
    const now = this.now();
    batch.forEach((bucket, i) => {
      // No row: nobody has taken a token yet, or (if we sent some) the service was deleted.
      const total = totals.get(i) ?? (sent[i] === 0 ? 0 : null);
      if (total === null) return;
      if (bucket.seen !== null) {
        // What the others took is paid first from what the limit granted since the last reading beyond this
        // replica's own takes and a full bucket (a refill the cap threw away); only the rest is a debt. Otherwise a
        // large limit, whose bucket holds far less than a second of its rate, refused requests after a busy second
        // elsewhere. Together the replicas still take no more than the limit grants.
        const spare = Math.max(0, (now - bucket.seenAt) * bucket.refillPerMs - sent[i]! - bucket.capacity);
        const others = Math.max(0, total - bucket.seen - sent[i]! - spare);
        if (others > 0) {
          refill(bucket, now);
          // Below zero if the others took more than this bucket held: the refill pays the debt back.
          bucket.tokens -= others;
        }
      }
      bucket.seen = total;
      bucket.seenAt = now;
      const key = `${bucket.serviceId}:${bucket.keyType}`;
      if (this.buckets.get(key) !== bucket || bucket.pending > 0 || now - bucket.used < this.idleMs) return;
      refill(bucket, now);
      // A full bucket left alone is what a new one would be, so forgetting it changes nothing here.
      if (bucket.tokens >= bucket.capacity) this.buckets.delete(key);
    });
  }
}

function refill(bucket: Bucket, now: number): void {
  bucket.tokens = Math.min(bucket.capacity, bucket.tokens + (now - bucket.updated) * bucket.refillPerMs);
  bucket.updated = now;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface DayCount {
  day: string;
  /** Last figure read from the database (includes other replicas' sends). */
  stored: number;
  /** Sends reserved here and not yet committed. */
  reserved: number;
  loaded: Promise<void> | null;
  /** When `stored` was last read from the database (Date.now()). */
  readAt: number;
}

/**
 * Within this many messages of a limit, each send is checked against the database's committed figure in a
 * transaction of its own (insertNotificationWithinLimits): exact across replicas, at the cost of one send at a time
 * for that service. Further off, the figure this process holds decides, as at most FRESH_MS (or one batch) old.
 */
const EXACT_MARGIN = 2_000;
/** How old a figure may be before a send waits to read it again (an idle process knows nothing of the others). */
const FRESH_MS = 250;

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
      entry = { day, stored: 0, reserved: 0, loaded: null, readAt: 0 };
      this.counts.set(key, entry);
    }
    if (!entry.loaded && Date.now() - entry.readAt > FRESH_MS) {
      const stale = entry;
      stale.loaded = sentOn(this.db, serviceId, day, channel).then(
        (sent) => {
          stale.stored = Math.max(stale.stored, sent);
          stale.readAt = Date.now();
          stale.loaded = null;
        },
        (err) => {
          stale.loaded = null;
          throw err;
        },
      );
    }
    return entry;
  }

  /**
   * Reserves `count` messages (one send, or a job's rows) against each channel's daily limit, or refuses
   * ('daily-limit'). The caller must later `commit` (inside the insert's transaction) or `release` it.
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
        throw new SendRefused({ code: 'daily-limit', channel, limit });
      }
    }
    const exact = entries.some(
      ([channel, entry]) => entry.stored + entry.reserved + count > limits[channel]! - EXACT_MARGIN,
    );
    for (const [, entry] of entries) entry.reserved += count;
    return new Reservation(serviceId, entries, count, exact ? limits : null);
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
    const counts = this.counterAdds(reservations);
    const rows = await addDailyCounts(trx, counts.adds);
    return () => counts.apply(rows);
  }

  /**
   * What the reservations add to the daily counters, for callers that write them themselves (the notification
   * writer adds them in the tail of its insert, so a batch costs one round trip), and what to apply to the
   * in-memory counts with the rows written once committed (each row holds the day's total).
   */
  counterAdds(reservations: Reservation[]): { adds: DailyCountAdd[]; apply(rows: CounterRow[]): void } {
    const totals = new Map<string, DailyCountAdd & { channel: LimitChannel; entry: DayCount }>();
    for (const r of reservations) {
      for (const [channel, entry] of r.entries) {
        const key = `${r.serviceId}:${channel}:${entry.day}`;
        const t = totals.get(key) ?? { serviceId: r.serviceId, day: entry.day, channel, n: 0, entry };
        t.n += r.count;
        totals.set(key, t);
      }
    }
    // One order for every writer, so that two statements (other replicas' batches on the same shard) updating
    // the same services' rows cannot deadlock.
    const ts = [...totals.values()].sort((a, b) => compare(a.serviceId, b.serviceId) || compare(a.channel, b.channel));
    return {
      adds: ts,
      apply(rows) {
        for (const t of ts) {
          const row = rows.find((r) => r.service_id === t.serviceId && r.channel === t.channel);
          // Our reservations are now part of the stored figure, which also includes other replicas' sends.
          t.entry.stored = Math.max(t.entry.stored + t.n, row?.sent ?? 0);
          t.entry.reserved -= t.n;
          t.entry.readAt = Date.now();
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
      await subtractDailyCount(this.db, serviceId, day, channel, n);
      const entry = this.counts.get(`${serviceId}:${channel}`);
      if (entry && entry.day === day) entry.stored = Math.max(0, entry.stored - n);
    }
  }
}

/** Messages counted for a service on a day and channel: the sum of the counter's shards. */
export function sentOn(db: Db, serviceId: string, day: string, channel: LimitChannel): Promise<number> {
  return dailyCount(db, serviceId, day, channel);
}

/** A service's messages counted today per channel (the dashboard's usage), summed over the counter's shards. */
export async function todaysUse(db: Db, serviceId: string): Promise<Record<LimitChannel, number>> {
  const rows = await dailyCountsByChannel(db, serviceId, utcDay());
  const use: Record<LimitChannel, number> = { email: 0, sms: 0, international_sms: 0 };
  for (const row of rows) if (row.channel in use) use[row.channel as LimitChannel] = row.sent;
  return use;
}

export class Reservation {
  constructor(
    readonly serviceId: string,
    readonly entries: Array<[LimitChannel, DayCount]>,
    readonly count = 1,
    /** Set near a limit: the send must be checked against the database's figure as it is written (EXACT_MARGIN). */
    readonly exactLimits: Partial<Record<LimitChannel, number>> | null = null,
  ) {}

  /** The UTC day whose counter rows `commit` adds to: the day of the reservation, not of the commit. */
  get day(): string {
    return this.entries[0]?.[1].day ?? utcDay();
  }
}
