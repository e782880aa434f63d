/** Reading what the sink providers "sent", newest first: the data behind `envoi outbox`. */
import type { Db } from '../../platform/database/connection.ts';
import { findLatestOutbox, findOutboxEmail, findOutboxSummaries } from '../repositories/outbox.ts';

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
  const rows = await findLatestOutbox(db, Math.max(1, Math.floor(opts.limit)), opts.serviceId);
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
  const found = await findOutboxSummaries(db, serviceId, opts.before, opts.size + 1);
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
export function outboxEmail(
  db: Db,
  serviceId: string,
  id: number,
): Promise<{ html: string | null; body: string } | undefined> {
  return findOutboxEmail(db, serviceId, id);
}
