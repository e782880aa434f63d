/**
 * Notifications as the delivery side writes them: the queue the worker claims (NOTIFICATION_QUEUE), the outcomes it
 * records, the receipts that settle them, and the timeouts of those that never hear back. Each write queues the
 * services' delivery-status callbacks in the same statement (callback-deliveries.ts).
 *
 * The table is partitioned by day of created_at (notification-partitions.ts): the hot statements bound created_at so
 * that they are planned against the days they touch, and are prepared per connection (`prepared`).
 *
 * Receipts, as one statement per batch (receipts/applier.ts batches them):
 *   - a status receipt applies to a notification in `sending` or `pending`; a `pending` receipt only moves
 *     `sending` → `pending`; a `delivered` notification may still become a failure, but only through a bounce;
 *   - a complaint applies to a notification in any status but `created`; it is recorded once, and its recipient
 *     suppressed, as are hard bounces and opt-outs.
 */
import { sql, type Insertable } from 'kysely';
import { prepared, type Db } from '../../platform/database/connection.ts';
import type { NotificationsTable } from '../schema.ts';
import type { Fenced, QueueTable } from '../../platform/queue/claim-queue.ts';
import type { ComplaintReceipt, Receipt } from '../delivery/receipts/types.ts';
import { queueComplaintCallbacks, queueStatusCallbacks } from './callback-deliveries.ts';
import { idempotencyKeysInsert, type NewIdempotencyKey } from './idempotency-keys.ts';
import {
  addDailyCountsWithin,
  type CounterRow,
  type DailyCountAdd,
  dailyCountsUpsert,
  type LimitedCountAdd,
} from './daily-send-counts.ts';

/**
 * A row to insert. `personalisation` is the value itself, not JSON text: the batch is serialised in one
 * JSON.stringify, which writes it in place.
 */
export type NewNotification = Omit<Insertable<NotificationsTable>, 'personalisation'> & {
  personalisation: Record<string, unknown> | null;
};

/**
 * Inserts accepted notifications (all with the same columns) and adds `adds` to the daily counters on `shard`, in
 * one statement committed on its own; resolves the counters' rows. The rows go in as one JSON array (serialised
 * natively, and parsed by PostgreSQL rather than by the driver, which would build and escape one array literal per
 * column), and the counters are bumped in its tail.
 */
export function insertNotificationsCounted(
  db: Db,
  rows: readonly NewNotification[],
  adds: readonly DailyCountAdd[],
  shard: number,
  keys: readonly NewIdempotencyKey[] = [],
): Promise<{ rows: CounterRow[] }> {
  const columns = sql.join(Object.keys(rows[0]!).map((c) => sql.ref(c)));
  const counters = dailyCountsUpsert(adds, shard);
  // Only sends that gave an Idempotency-Key store one: a key already stored fails the statement (unique).
  const keyed = keys.length > 0 ? idempotencyKeysInsert(keys) : sql``;
  // The statement's promise itself, not awaited here: the accept path pays no extra turn of the event loop.
  return sql<CounterRow>`${prepared}
        WITH ${keyed} inserted AS (
          INSERT INTO notifications (${columns})
          SELECT ${columns} FROM json_populate_recordset(NULL::notifications, ${JSON.stringify(rows)}::json)
          RETURNING 1)
        ${counters}`.execute(db);
}

/**
 * Inserts one accepted notification only if its daily counters stay within their limits (addDailyCountsWithin), in
 * one transaction: the exact path for a service near its limit, where the batched insert above could let replicas
 * pass it together.
 */
export function insertNotificationWithinLimits(
  db: Db,
  row: NewNotification,
  adds: readonly LimitedCountAdd[],
  keys: readonly NewIdempotencyKey[] = [],
): Promise<{ rows: CounterRow[] } | { over: LimitedCountAdd }> {
  return db.transaction().execute(async (trx) => {
    const counted = await addDailyCountsWithin(trx, adds);
    if ('rows' in counted) await insertNotificationsCounted(trx, [row], [], 0, keys);
    return counted;
  });
}

export const NOTIFICATION_QUEUE: QueueTable = {
  table: 'notifications',
  idType: 'uuid',
  due: sql`status = 'created' AND next_attempt_at <= now()`,
  orderBy: ['priority', 'next_attempt_at'],
  returning: [
    'id',
    'service_id',
    'template_id',
    'template_version',
    'key_type',
    'notification_type',
    'to',
    'normalised_to',
    'personalisation',
    'subject',
    'body',
    'reply_to_text',
    'one_click_unsubscribe_url',
    'priority',
    'next_attempt_at',
    'attempts',
    'created_at',
    'scheduled_for',
  ],
  noteColumn: 'provider_response',
  touchColumn: 'updated_at',
};

/** A delivery's final outcome for one row, fenced by the attempt that reached it. */
export interface DeliveryFinal extends Fenced {
  /** The row's created_at: it names the day partition, so the UPDATE is planned against that day alone. */
  createdAt: Date;
  status: string;
  provider: string | null;
  reference: string | null;
  response: string | null;
  /** When the provider took the message; null when it never did. */
  sentAt: Date | null;
  /** Text message fragments; null keeps the row's own. */
  billableUnits: number | null;
}

/** Writes the worker's final outcomes, one statement for the lot, and queues their delivery-status callbacks. */
export async function writeDeliveryFinals(db: Db, rows: DeliveryFinal[]): Promise<void> {
  if (rows.length === 0) return;
  // `attempts` fences out a worker whose lease ran out; `status = 'created'` keeps a cancellation made meanwhile.
  // The services' delivery-status callbacks are queued by the same statement.
  await sql`${prepared}
    WITH changed AS (
    UPDATE notifications AS n
    SET status = v.status,
        provider = coalesce(v.provider, n.provider),
        provider_reference = coalesce(v.reference, n.provider_reference),
        provider_response = coalesce(v.response, n.provider_response),
        sent_at = coalesce(v.sent_at, n.sent_at),
        billable_units = coalesce(v.billable_units, n.billable_units),
        claimed_until = NULL,
        updated_at = now()
    FROM unnest(
      ${rows.map((r) => r.id)}::uuid[],
      ${rows.map((r) => r.attempts)}::int[],
      ${rows.map((r) => r.status)}::text[],
      ${rows.map((r) => r.provider)}::text[],
      ${rows.map((r) => r.reference)}::text[],
      ${rows.map((r) => r.response)}::text[],
      ${rows.map((r) => (r.sentAt ? r.sentAt.toISOString() : null))}::timestamptz[],
      ${rows.map((r) => r.billableUnits)}::int[]
    ) AS v(id, attempts, status, provider, reference, response, sent_at, billable_units)
    WHERE n.id = v.id AND n.attempts = v.attempts AND n.status = 'created'
      AND n.created_at BETWEEN ${oldest(rows)} AND ${newest(rows)}
    RETURNING n.id, n.service_id, n.status, n.provider_response, n.updated_at),
    queued AS (${queueStatusCallbacks('changed')})
    SELECT count(*) FROM changed`.execute(db);
}

function oldest(rows: readonly { createdAt: Date }[]): Date {
  return new Date(Math.min(...rows.map((r) => r.createdAt.getTime())));
}

/** One millisecond past the newest: PostgreSQL keeps microseconds, a Date only milliseconds. */
function newest(rows: readonly { createdAt: Date }[]): Date {
  return new Date(Math.max(...rows.map((r) => r.createdAt.getTime())) + 1);
}
/** A receipt to apply: the one that decides its notification's status, or a complaint. */
export interface ReceiptRow {
  receipt: Receipt;
}

/** What a receipt found: the status its notification had, and whether the receipt changed it (or was recorded). */
export interface ReceiptOutcome {
  current: string;
  applied: boolean;
}

/**
 * Applies a batch of receipts in one statement. Resolves, by index in `rows`, what each found; a receipt whose
 * notification is not there (or still `created`) has no entry.
 */
export async function applyReceipts(db: Db, rows: readonly ReceiptRow[]): Promise<Map<number, ReceiptOutcome>> {
  const { rows: found } = await receiptStatement(rows).execute(db);
  const outcomes = new Map<number, ReceiptOutcome>();
  for (const row of found) outcomes.set(Number(row.ord), { current: row.current, applied: row.applied === true });
  return outcomes;
}

/** The one statement that applies a batch of receipts (see the top of this file). */
function receiptStatement(rows: readonly ReceiptRow[]) {
  const status = (r: Receipt) => (r.kind === 'status' ? r : null);
  const complaint = (r: Receipt) => (r.kind === 'complaint' ? (r as ComplaintReceipt) : null);
  const target = (r: Receipt) => r.target;
  return sql<{ ord: number; current: string; applied: boolean }>`${prepared}
    WITH incoming AS (
      SELECT * FROM unnest(
        ${rows.map((_, i) => i)}::int4[],
        ${rows.map((r) => r.receipt.kind)}::text[],
        ${rows.map((r) => {
          const t = target(r.receipt);
          return 'provider' in t ? t.provider : null;
        })}::text[],
        ${rows.map((r) => {
          const t = target(r.receipt);
          return 'reference' in t ? t.reference : null;
        })}::text[],
        ${rows.map((r) => {
          const t = target(r.receipt);
          return 'notificationId' in t ? t.notificationId : null;
        })}::uuid[],
        ${rows.map((r) => status(r.receipt)?.status ?? null)}::text[],
        ${rows.map((r) => status(r.receipt)?.response ?? null)}::text[],
        ${rows.map((r) => r.receipt.at.toISOString())}::timestamptz[],
        ${rows.map((r) => status(r.receipt)?.suppress ?? null)}::text[],
        ${rows.map((r) => (status(r.receipt)?.bounce === true ? 'true' : 'false'))}::bool[],
        ${rows.map((r) => complaint(r.receipt)?.complaintType ?? null)}::text[]
      ) AS i(ord, kind, provider, reference, notification_id, status, response, at, suppress, bounce, complaint_type)
    ),
    -- One index look-up per receipt (LATERAL … LIMIT 1 keeps it one), whatever the planner thinks of the table.
    found AS (
      SELECT i.*, n.* FROM incoming i CROSS JOIN LATERAL (
        SELECT n.id, n.created_at, n.service_id, n.status AS current, n.notification_type, n.normalised_to, n.provider_reference AS nref
        FROM notifications n WHERE n.id = i.notification_id AND n.status <> 'created' LIMIT 1) n
      WHERE i.notification_id IS NOT NULL
      UNION ALL
      SELECT i.*, n.* FROM incoming i CROSS JOIN LATERAL (
        SELECT n.id, n.created_at, n.service_id, n.status AS current, n.notification_type, n.normalised_to, n.provider_reference AS nref
        FROM notifications n WHERE n.provider_reference = i.reference AND n.provider = i.provider AND n.status <> 'created' LIMIT 1) n
      WHERE i.notification_id IS NULL
    ),
    changed AS (
      UPDATE notifications AS n
      SET status = f.status, provider_response = f.response, updated_at = f.at
      FROM found f
      -- created_at too: notifications may be partitioned by it.
      WHERE n.id = f.id AND n.created_at = f.created_at AND f.kind = 'status' AND (
        n.status = 'sending'
        OR (n.status = 'pending' AND f.status <> 'pending')
        OR (n.status = 'delivered' AND f.bounce AND f.status <> 'delivered'))
      RETURNING n.id, n.service_id, n.status, n.provider_response, n.updated_at, n.notification_type, n.normalised_to, f.ord, f.suppress
    ),
    complained AS (
      INSERT INTO complaints (service_id, notification_id, complaint_type, complaint_date, provider_reference)
      SELECT f.service_id, f.id, f.complaint_type, f.at, f.nref FROM found f
      WHERE f.kind = 'complaint'
        -- SNS delivers at least once: the same complaint twice is one complaint.
        AND NOT EXISTS (SELECT 1 FROM complaints k WHERE k.notification_id = f.id AND k.complaint_date = f.at)
      RETURNING id, service_id
    ),
    suppressed AS (
      INSERT INTO suppressions (service_id, channel, recipient, reason, notification_id)
      SELECT DISTINCT ON (s.service_id, s.channel, s.recipient) s.service_id, s.channel, s.recipient, s.reason, s.notification_id
      FROM (
        SELECT c.service_id, c.notification_type AS channel, c.normalised_to AS recipient, c.suppress AS reason, c.id AS notification_id
        FROM changed c WHERE c.suppress IS NOT NULL
        UNION ALL
        SELECT f.service_id, f.notification_type, f.normalised_to, 'complaint', f.id FROM found f WHERE f.kind = 'complaint'
      ) s
      ORDER BY s.service_id, s.channel, s.recipient
      ON CONFLICT DO NOTHING
    ),
    queued_status AS (${queueStatusCallbacks('changed')}),
    queued_complaints AS (${queueComplaintCallbacks('complained')})
    SELECT f.ord, f.current, (c.ord IS NOT NULL) AS applied FROM found f LEFT JOIN changed c ON c.ord = f.ord`;
}

const TIMEOUT_BATCH = 1_000;
/** Timeout batches per run; a backlog beyond that waits for the next run. */
const TIMEOUT_MAX_BATCHES = 50;

/**
 * Messages handed to a provider (`sending`, or `pending` at an SMS provider) that have heard nothing for `hours`
 * become `temporary-failure`, with their delivery-status callbacks queued by the same statement. In batches; the
 * rows are locked with SKIP LOCKED so a receipt being applied to one of them meanwhile is not waited for (it wins,
 * and the row is looked at again next run if still stale). Resolves to the number of rows changed.
 */
export async function timeOutStaleMessages(db: Db, hours: number): Promise<number> {
  const response = `No delivery receipt from the provider within ${hours} hours`;
  let total = 0;
  for (let batch = 0; batch < TIMEOUT_MAX_BATCHES; batch++) {
    const { rows } = await sql<{ n: number }>`
      WITH stale AS (
        SELECT id, created_at FROM notifications
        WHERE status IN ('sending', 'pending') AND sent_at < now() - ${hours} * interval '1 hour'
          -- created_at comes before sent_at, so this prunes the partitions of recent days.
          AND created_at < now() - ${hours} * interval '1 hour'
        LIMIT ${TIMEOUT_BATCH}
        FOR UPDATE SKIP LOCKED),
      changed AS (
        UPDATE notifications n
        SET status = 'temporary-failure', provider_response = ${response}, claimed_until = NULL, updated_at = now()
        FROM stale
        WHERE n.id = stale.id AND n.created_at = stale.created_at AND n.status IN ('sending', 'pending')
        RETURNING n.id, n.service_id, n.status, n.provider_response, n.updated_at),
      queued AS (${queueStatusCallbacks('changed')})
      SELECT count(*)::int AS n FROM changed`.execute(db);
    const n = rows[0]?.n ?? 0;
    total += n;
    if (n < TIMEOUT_BATCH) break;
  }
  return total;
}

/**
 * How long the oldest notification that is due and not claimed has been due in each lane, in seconds (0 when
 * none): the queue's lag, for /metrics. One index probe per lane on the claim queue's index (priority,
 * next_attempt_at) WHERE status = 'created', so that a long queue costs no more than a short one; rows leased by a
 * worker are stepped over (a batch at most per worker). `lanes`: every priority a notification may have.
 */
export async function oldestDueAgeSeconds(db: Db, lanes: readonly number[]): Promise<Map<number, number>> {
  const { rows } = await sql<{ priority: number; age: number | null }>`
    SELECT lane.priority, extract(epoch FROM now() - oldest.next_attempt_at)::float8 AS age
    FROM unnest(${lanes}::smallint[]) AS lane(priority)
    LEFT JOIN LATERAL (
      SELECT next_attempt_at FROM notifications
      WHERE (${NOTIFICATION_QUEUE.due}) AND priority = lane.priority AND (claimed_until IS NULL OR claimed_until < now())
      ORDER BY next_attempt_at
      LIMIT 1
    ) AS oldest ON true`.execute(db);
  return new Map(rows.map((r) => [Number(r.priority), Math.max(0, Number(r.age ?? 0))]));
}

/** One of a service's notifications with its template's name and the name of who sent it, or null. */
export async function findNotificationWithNames(db: Db, serviceId: string, id: string) {
  return (
    (await db
      .selectFrom('notifications as n')
      .leftJoin('templates as t', (join) =>
        join.onRef('t.id', '=', 'n.template_id').onRef('t.service_id', '=', 'n.service_id'),
      )
      .leftJoin('users as u', 'u.id', 'n.created_by_id')
      .select([
        'n.id',
        'n.notification_type',
        'n.to',
        'n.status',
        'n.subject',
        'n.body',
        'n.template_id',
        'n.template_version',
        'n.personalisation',
        'n.created_at',
        'n.sent_at',
        'n.updated_at',
        'n.scheduled_for',
        'n.job_id',
        'n.reply_to_text',
        't.name as template_name',
        'u.name as sent_by',
      ])
      .where('n.service_id', '=', serviceId)
      .where('n.id', '=', id)
      .executeTakeFirst()) ?? null
  );
}

export type NotificationWithNames = NonNullable<Awaited<ReturnType<typeof findNotificationWithNames>>>;
