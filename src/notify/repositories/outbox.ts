/** What the sink providers "sent" (outbox), newest first by id. */
import type { Db } from '../../platform/database/connection.ts';

/** A message as a sink provider stores it. */
export interface NewOutboxRow {
  notification_id: string;
  service_id: string;
  channel: 'email' | 'sms';
  recipient: string;
  sender: string | null;
  subject: string | null;
  body: string;
  html: string | null;
  headers: string | null;
}

/** Stores the messages in one statement; resolves each one's id. */
export async function insertOutboxRows(
  db: Db,
  rows: readonly NewOutboxRow[],
): Promise<Array<{ id: number; notification_id: string }>> {
  return db.insertInto('outbox').values(rows).returning(['id', 'notification_id']).execute();
}

/** The latest `limit` rows, of one service or of all. */
export async function findLatestOutbox(db: Db, limit: number, serviceId?: string) {
  let query = db.selectFrom('outbox').selectAll().orderBy('id', 'desc').limit(limit);
  if (serviceId) query = query.where('service_id', '=', serviceId);
  return query.execute();
}

/** Up to `limit` of the service's rows, without their HTML, before the row `before` (from the latest when null). */
export async function findOutboxSummaries(db: Db, serviceId: string, before: number | null, limit: number) {
  let q = db
    .selectFrom('outbox')
    .select(['id', 'notification_id', 'channel', 'recipient', 'sender', 'subject', 'body', 'created_at'])
    .where('service_id', '=', serviceId)
    .orderBy('id', 'desc')
    .limit(limit);
  if (before !== null) q = q.where('id', '<', before);
  return q.execute();
}

/** One email of the service's outbox: its HTML and its text. */
export async function findOutboxEmail(
  db: Db,
  serviceId: string,
  id: number,
): Promise<{ html: string | null; body: string } | undefined> {
  return db
    .selectFrom('outbox')
    .select(['html', 'body'])
    .where('service_id', '=', serviceId)
    .where('id', '=', id)
    .where('channel', '=', 'email')
    .executeTakeFirst();
}
