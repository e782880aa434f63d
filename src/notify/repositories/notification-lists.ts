/**
 * Notifications and received texts as the v2 API reads them: a notification by id, or a page of either, newest
 * first, continued after the last row of the page before (`older_than`).
 */
import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../../platform/database/connection.ts';
import type { KeyType, TemplateType } from '../vocabulary.ts';

/**
 * Rows older than the row `id` of the same service. Ordering by (created_at, id) rather than created_at alone
 * means rows created in the same instant are neither skipped nor repeated between pages; an unknown id (or one of
 * another service) compares with NULL and so gives an empty page, as Notify does.
 */
function olderThan(
  table: 'notifications' | 'received_texts',
  alias: string,
  serviceId: string,
  id: string,
): RawBuilder<boolean> {
  return sql<boolean>`(${sql.ref(`${alias}.created_at`)}, ${sql.ref(`${alias}.id`)}) < (
    SELECT o.created_at, o.id FROM ${sql.table(table)} o WHERE o.id = ${id} AND o.service_id = ${serviceId})`;
}

function selectNotifications(db: Db) {
  return db
    .selectFrom('notifications as n')
    .select([
      'n.id',
      'n.client_reference',
      'n.notification_type',
      'n.to',
      'n.status',
      'n.template_id',
      'n.template_version',
      'n.body',
      'n.subject',
      'n.created_at',
      'n.sent_at',
      'n.updated_at',
      'n.scheduled_for',
      'n.one_click_unsubscribe_url',
      'n.billable_units',
      'n.provider_response',
    ]);
}

/** One of the service's notifications, as the API shows it. */
export async function findApiNotification(db: Db, serviceId: string, id: string) {
  return selectNotifications(db).where('n.service_id', '=', serviceId).where('n.id', '=', id).executeTakeFirst();
}

export interface NotificationListQuery {
  serviceId: string;
  keyType: KeyType;
  /** Rows of bulk jobs too (a job can add a million rows to the list). */
  includeJobs: boolean;
  types?: TemplateType[];
  /** Any status when absent. */
  statuses?: string[];
  reference?: string;
  /** Rows older than this one of the service. */
  olderThan?: string;
}

/** Up to `limit` of the service's notifications sent with a key type, newest first. */
export async function listApiNotifications(db: Db, query: NotificationListQuery, limit: number) {
  let q = selectNotifications(db).where('n.service_id', '=', query.serviceId).where('n.key_type', '=', query.keyType);
  if (!query.includeJobs) q = q.where('n.job_id', 'is', null);
  if (query.types) q = q.where('n.notification_type', 'in', query.types);
  if (query.statuses) q = q.where('n.status', 'in', query.statuses);
  if (query.reference !== undefined) q = q.where('n.client_reference', '=', query.reference);
  if (query.olderThan) q = q.where(olderThan('notifications', 'n', query.serviceId, query.olderThan));
  return q.orderBy('n.created_at', 'desc').orderBy('n.id', 'desc').limit(limit).execute();
}

/** Up to `limit` of the texts sent to the service's number, newest first, older than the text `olderThanId`. */
export async function listReceivedTexts(db: Db, serviceId: string, olderThanId: string | undefined, limit: number) {
  let q = db
    .selectFrom('received_texts as r')
    .select(['r.id', 'r.created_at', 'r.service_id', 'r.notify_number', 'r.user_number', 'r.content'])
    .where('r.service_id', '=', serviceId);
  if (olderThanId) q = q.where(olderThan('received_texts', 'r', serviceId, olderThanId));
  return q.orderBy('r.created_at', 'desc').orderBy('r.id', 'desc').limit(limit).execute();
}
