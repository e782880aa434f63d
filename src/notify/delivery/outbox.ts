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
