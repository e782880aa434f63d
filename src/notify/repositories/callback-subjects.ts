/**
 * What callbacks report on (complaints, notifications, received texts), read by id for a batch of callbacks. Each
 * row carries its service, for the caller to match it with the callback's.
 */
import type { Db } from '../../platform/database/connection.ts';

export async function findComplaints(db: Db, ids: readonly string[]) {
  return db
    .selectFrom('complaints')
    .select(['id', 'service_id', 'notification_id', 'complaint_date', 'created_at'])
    .where('id', 'in', ids)
    .execute();
}

export async function findNotificationSubjects(db: Db, ids: readonly string[]) {
  return db
    .selectFrom('notifications')
    .select([
      'id',
      'service_id',
      'client_reference',
      'to',
      'status',
      'created_at',
      'sent_at',
      'notification_type',
      'template_id',
      'template_version',
    ])
    .where('id', 'in', ids)
    .execute();
}

export async function findReceivedTexts(db: Db, ids: readonly string[]) {
  return db
    .selectFrom('received_texts')
    .select(['id', 'service_id', 'user_number', 'notify_number', 'content', 'provider_date', 'created_at'])
    .where('id', 'in', ids)
    .execute();
}
