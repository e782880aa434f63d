/**
 * The claim/lease pattern that turns a table into a work queue (DESIGN §1). Any table whose rows are jobs can use
 * it if it has the columns `id`, `claimed_until` (timestamptz, null when free), `attempts` (integer) and
 * `next_attempt_at` (timestamptz): notifications (the delivery worker) and callback_deliveries (the callback sender)
 * through the queue runner (runner.ts), and bulk jobs, which claim one job at a time through it.
 *
 * A worker claims a batch of due rows in one statement; each claimed row gets a lease (claimed_until) and one more
 * attempt. The worker then either finishes a row (its own UPDATE, `WHERE attempts = <attempts it claimed>`),
 * releases it for a retry later, or gives it back untried. A worker that dies does none of these: its rows become due again when the lease
 * runs out. `attempts` doubles as a fencing token, so a worker whose lease ran out cannot overwrite the outcome of
 * the worker that claimed the row after it.
 *
 * Time is always the database's now(): replicas' clocks may disagree, the database's is the one they share.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { prepared } from '../database/connection.ts';

export interface QueueTable {
  /** The table's name. */
  table: string;
  /** SQL type of the id column, used to pass ids as an array. */
  idType: 'uuid' | 'bigint' | 'text';
  /**
   * What makes a row due besides a free or expired lease, e.g. `status = 'created' AND next_attempt_at <= now()`.
   * Written against the bare table (no alias).
   */
  due: RawBuilder<unknown>;
  /** Claim order, ascending: lane first, then the longest-waiting. */
  orderBy: readonly string[];
  /** Columns handed back for each claimed row. */
  returning: readonly string[];
  /** A text column that keeps the last error on release (notifications: provider_response). */
  noteColumn?: string;
  /** A timestamp column set to now() on every change (notifications: updated_at). */
  touchColumn?: string;
}

/** Every claimed row carries these, whatever else `returning` names. */
export interface ClaimedRow {
  id: string;
  attempts: number;
}

/** A claimed row's id and the attempt number it was claimed with: the fence for writing its outcome. */
export interface Fenced {
  id: string;
  attempts: number;
}

export interface Retry extends Fenced {
  /** How long from now before the row is due again. */
  delayMs: number;
  /** Why: kept in noteColumn if the table has one. */
  note?: string | null;
}

// Kysely<any>: the module serves any table; its SQL is written out below rather than typed per table.
// biome-ignore lint/suspicious/noExplicitAny: the claim SQL is written out per table, not typed per table
type AnyDb = Kysely<any>;

/**
 * Claims up to `limit` due rows for `leaseSeconds`. SKIP LOCKED lets concurrent workers take disjoint batches
 * without waiting on each other; `= ANY(ARRAY(subquery))` makes PostgreSQL run the locking subquery exactly once.
 * The rows come back in no particular order.
 */
export async function claim<Row extends ClaimedRow>(
  db: AnyDb,
  queue: QueueTable,
  opts: { limit: number; leaseSeconds: number },
): Promise<Row[]> {
  if (opts.limit <= 0) return [];
  const t = sql.table(queue.table);
  const order = sql.join(queue.orderBy.map((c) => sql.ref(c)));
  const returning = sql.join([...new Set(['id', 'attempts', ...queue.returning])].map((c) => sql.ref(c)));
  const result = await sql<Row>`${prepared}
    UPDATE ${t}
    SET claimed_until = now() + ${opts.leaseSeconds} * interval '1 second', attempts = attempts + 1${touch(queue)}
    WHERE id = ANY(ARRAY(
      SELECT id FROM ${t}
      WHERE (${queue.due}) AND (claimed_until IS NULL OR claimed_until < now())
      ORDER BY ${order}
      LIMIT ${opts.limit}
      FOR UPDATE SKIP LOCKED
    ))
    RETURNING ${returning}`.execute(db);
  return result.rows;
}

/**
 * Frees claimed rows to be tried again after their delay, in one statement. Rows whose fence no longer holds
 * (another worker claimed them after our lease ran out) are left alone.
 */
export async function release(db: AnyDb, queue: QueueTable, rows: readonly Retry[]): Promise<void> {
  if (rows.length === 0) return;
  const t = sql.table(queue.table);
  const note = queue.noteColumn
    ? sql`, ${sql.ref(queue.noteColumn)} = coalesce(v.note, q.${sql.ref(queue.noteColumn)})`
    : sql``;
  await sql`
    UPDATE ${t} AS q
    SET claimed_until = NULL, next_attempt_at = now() + v.delay_ms * interval '1 millisecond'${note}${touch(queue)}
    FROM unnest(
      ${rows.map((r) => r.id)}::${sql.raw(queue.idType)}[],
      ${rows.map((r) => r.attempts)}::int[],
      ${rows.map((r) => Math.max(0, Math.round(r.delayMs)))}::bigint[],
      ${rows.map((r) => r.note ?? null)}::text[]
    ) AS v(id, attempts, delay_ms, note)
    WHERE q.id = v.id AND q.attempts = v.attempts`.execute(db);
}

/**
 * Gives back claimed rows that were never tried (a worker stopping mid-batch, a provider asking us to slow down):
 * they are due again after `delayMs` and the attempt their claim counted is returned.
 */
export async function giveBack(db: AnyDb, queue: QueueTable, rows: readonly Fenced[], delayMs = 0): Promise<void> {
  if (rows.length === 0) return;
  const t = sql.table(queue.table);
  const due = delayMs > 0 ? sql`, next_attempt_at = now() + ${Math.round(delayMs)} * interval '1 millisecond'` : sql``;
  await sql`
    UPDATE ${t} AS q
    SET claimed_until = NULL, attempts = q.attempts - 1${due}${touch(queue)}
    FROM unnest(${rows.map((r) => r.id)}::${sql.raw(queue.idType)}[], ${rows.map((r) => r.attempts)}::int[]) AS v(id, attempts)
    WHERE q.id = v.id AND q.attempts = v.attempts`.execute(db);
}

function touch(queue: QueueTable): RawBuilder<unknown> {
  return queue.touchColumn ? sql`, ${sql.ref(queue.touchColumn)} = now()` : sql``;
}

export interface Backoff {
  /** Delay before the second attempt; each later one doubles it. */
  baseMs: number;
  maxMs: number;
}

/**
 * Retry delays per lane (priority 0 high, 1 normal, 2 bulk). The high lane holds one-time codes and the like,
 * worthless if late, so it retries soon; bulk backs off furthest so that a struggling provider is not buried.
 */
export const LANE_BACKOFF: Readonly<Record<number, Backoff>> = {
  0: { baseMs: 2_000, maxMs: 60_000 },
  1: { baseMs: 15_000, maxMs: 15 * 60_000 },
  2: { baseMs: 60_000, maxMs: 30 * 60_000 },
};

/**
 * Exponential backoff with jitter: after attempt n the delay is base·2^(n-1), capped, then drawn from its upper
 * half so that rows failed together (a relay outage) do not all come back in the same instant.
 */
export function backoffMs(attempts: number, backoff: Backoff, random: () => number = Math.random): number {
  const exp = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(exp / 2 + (random() * exp) / 2);
}

/** The backoff for a lane; unknown lanes get the normal lane's. */
export function laneBackoffMs(attempts: number, priority: number): number {
  return backoffMs(attempts, LANE_BACKOFF[priority] ?? LANE_BACKOFF[1]);
}
