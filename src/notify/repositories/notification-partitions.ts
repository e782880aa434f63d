/**
 * The day partitions of `notifications` (migrations/004_retention.sql): one table per UTC day of created_at, named
 * notifications_pYYYYMMDD, and notifications_default for rows of a day that has none. The scheduler
 * (delivery/scheduler.ts) creates them ahead and retention drops them once every service is past their day; this
 * repository is the only code that writes their DDL.
 *
 * Days are 'YYYY-MM-DD' strings (UTC) throughout: a JS Date would bring the local time zone back in.
 */
import { sql } from 'kysely';
import type { Db } from '../../platform/database/connection.ts';
import { addDays, dayStart } from '../../platform/utc-days.ts';

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const PARTITION_NAME = /^notifications_p(\d{4})(\d{2})(\d{2})$/;
// DDL on a partition briefly locks the parent (and the default partition). Waiting behind a long query would stall
// every query queued behind us, so give up quickly and try again on the next run.
const DDL_LOCK_TIMEOUT = '5s';

export function partitionName(day: string): string {
  if (!DAY.test(day)) throw new Error(`not a day: ${day}`);
  return `notifications_p${day.replaceAll('-', '')}`;
}

/** Today's UTC day by the database's clock, which every replica shares. */
export async function databaseToday(db: Db): Promise<string> {
  const { rows } = await sql<{ today: string }>`SELECT ((now() AT TIME ZONE 'UTC')::date)::text AS today`.execute(db);
  return rows[0]!.today;
}

/** The days that have a partition of their own, oldest first. */
export async function listDayPartitions(db: Db): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'notifications'::regclass`.execute(db);
  return rows
    .map((r) => PARTITION_NAME.exec(r.name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => `${m[1]}-${m[2]}-${m[3]}`)
    .sort();
}

/** The UTC days of rows in the default partition (normally none: it only fills while the scheduler is not running). */
export async function daysInDefaultPartition(db: Db): Promise<string[]> {
  const { rows } = await sql<{ day: string }>`
    SELECT DISTINCT ((created_at AT TIME ZONE 'UTC')::date)::text AS day FROM notifications_default ORDER BY 1`.execute(
    db,
  );
  return rows.map((r) => r.day);
}

/**
 * Creates the partition of `day` unless it exists. It is built as a plain table and then attached, which locks the
 * parent more lightly than CREATE TABLE … PARTITION OF; rows of that day waiting in the default partition are
 * moved into it first, in the same transaction (attaching would fail while the default partition holds any).
 * Resolves true when it created the partition.
 */
export async function createDayPartition(db: Db, day: string): Promise<boolean> {
  const name = partitionName(day);
  const from = dayStart(day);
  const to = dayStart(addDays(day, 1));
  return db.transaction().execute(async (trx) => {
    await sql`SET LOCAL lock_timeout = ${sql.lit(DDL_LOCK_TIMEOUT)}`.execute(trx);
    const exists = await sql<{ found: boolean }>`SELECT to_regclass(${name}) IS NOT NULL AS found`.execute(trx);
    if (exists.rows[0]!.found) return false;
    const table = sql.table(name);
    await sql`CREATE TABLE ${table} (LIKE notifications INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`.execute(trx);
    await sql`
      WITH moved AS (DELETE FROM notifications_default WHERE created_at >= ${from} AND created_at < ${to} RETURNING *)
      INSERT INTO ${table} SELECT * FROM moved`.execute(trx);
    // Attaching builds the parent's indexes on the new table and checks its rows against the bounds.
    await sql`ALTER TABLE notifications ATTACH PARTITION ${table}
      FOR VALUES FROM (${sql.lit(from)}) TO (${sql.lit(to)})`.execute(trx);
    return true;
  });
}

/** Drops the partition of `day`, and with it every row of that day. Run inside the caller's transaction. */
export async function dropDayPartition(trx: Db, day: string): Promise<void> {
  await sql`SET LOCAL lock_timeout = ${sql.lit(DDL_LOCK_TIMEOUT)}`.execute(trx);
  await sql`DROP TABLE IF EXISTS ${sql.table(partitionName(day))}`.execute(trx);
}
