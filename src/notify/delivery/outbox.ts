/** Reading what the sink providers "sent", newest first: the data behind `envoi outbox`. */
import type { Db } from '../../platform/database/connection.ts';

export interface OutboxEntry {
  id: number;
  notificationId: string;
  serviceId: string;
  channel: string;
  recipient: string;
  sender: string | null;
  subject: string | null;
  body: string;
  html: string | null;
  headers: Record<string, string> | null;
  createdAt: Date;
}

export async function latestOutbox(db: Db, opts: { limit: number; serviceId?: string }): Promise<OutboxEntry[]> {
  let query = db
    .selectFrom('outbox')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(Math.max(1, Math.floor(opts.limit)));
  if (opts.serviceId) query = query.where('service_id', '=', opts.serviceId);
  const rows = await query.execute();
  return rows.map((r) => ({
    id: Number(r.id),
    notificationId: r.notification_id,
    serviceId: r.service_id,
    channel: r.channel,
    recipient: r.recipient,
    sender: r.sender,
    subject: r.subject,
    body: r.body,
    html: r.html,
    headers: (typeof r.headers === 'string' ? JSON.parse(r.headers) : r.headers) as Record<string, string> | null,
    createdAt: r.created_at,
  }));
}

/** One line of a service's outbox page: what the page lists, without the rendered email. */
export interface OutboxSummary {
  id: number;
  notificationId: string;
  channel: string;
  recipient: string;
  sender: string | null;
  subject: string | null;
  body: string;
  createdAt: Date;
}

/**
 * A page of a service's outbox, newest first, before the row `before` (the first page when null), and the id to
 * ask for the next page from (null when this is the last).
 */
export async function outboxPage(
  db: Db,
  serviceId: string,
  opts: { before: number | null; size: number },
): Promise<{ rows: OutboxSummary[]; next: number | null }> {
  let q = db
    .selectFrom('outbox')
    .select(['id', 'notification_id', 'channel', 'recipient', 'sender', 'subject', 'body', 'created_at'])
    .where('service_id', '=', serviceId)
    .orderBy('id', 'desc')
    .limit(opts.size + 1);
  if (opts.before !== null) q = q.where('id', '<', opts.before);
  const found = await q.execute();
  const rows: OutboxSummary[] = found.slice(0, opts.size).map((r) => ({
    id: Number(r.id),
    notificationId: r.notification_id,
    channel: r.channel,
    recipient: r.recipient,
    sender: r.sender,
    subject: r.subject,
    body: r.body,
    createdAt: r.created_at,
  }));
  return { rows, next: found.length > opts.size ? rows[rows.length - 1]!.id : null };
}

/** One email of a service's outbox, as the sink kept it (its HTML, and its text). */
export async function outboxEmail(
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
