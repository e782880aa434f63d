/** Notifications as the web UI shows them, one at a time. */
import type { Db } from '../../platform/database/connection.ts';

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
