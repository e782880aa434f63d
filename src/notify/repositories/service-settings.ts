/**
 * Notify's columns of the services table (email sender, retention, daily limits, branding) as its settings read
 * them; simple changes go through the platform's updateService.
 */
import { sql } from 'kysely';
import type { Db } from '../../platform/database/connection.ts';

/** Whether a service other than `exceptId` sends email from this local part. */
export async function localPartTaken(db: Db, part: string, exceptId: string | null): Promise<boolean> {
  let q = db.selectFrom('services').select('id').where(sql`lower(email_sender_local_part)`, '=', part);
  if (exceptId) q = q.where('id', '!=', exceptId);
  return (await q.executeTakeFirst()) !== undefined;
}

/** A service's settings, with its logo's type, alt text and size (never its bytes). */
export async function findServiceSettings(db: Db, serviceId: string) {
  return db
    .selectFrom('services as s')
    .leftJoin('email_logos as l', 'l.service_id', 's.id')
    .select([
      's.id',
      's.name',
      's.restricted',
      's.active',
      's.email_sender_name',
      's.email_sender_local_part',
      's.data_retention_days',
      's.email_message_limit',
      's.sms_message_limit',
      's.international_sms_message_limit',
      's.email_branding',
      's.go_live_at',
      's.suspended_at',
      'l.content_type',
      'l.alt_en',
      'l.alt_fr',
      sql<number | null>`octet_length(l.bytes)`.as('logo_size'),
    ])
    .where('s.id', '=', serviceId)
    .executeTakeFirst();
}

const LIMIT_COLUMNS = ['email_message_limit', 'sms_message_limit', 'international_sms_message_limit'] as const;

/** A service's daily limits; throws when there is no such service. */
export async function findDailyLimits(db: Db, serviceId: string) {
  return db.selectFrom('services').select(LIMIT_COLUMNS).where('id', '=', serviceId).executeTakeFirstOrThrow();
}

/** A service's name and daily limits, locked until the transaction ends. */
export async function lockDailyLimits(db: Db, serviceId: string) {
  return db
    .selectFrom('services')
    .select(['name', ...LIMIT_COLUMNS])
    .where('id', '=', serviceId)
    .forUpdate()
    .executeTakeFirst();
}

/** The service goes live: out of trial mode, its daily limits raised to `live` where they were lower. */
export async function markServiceLive(db: Db, serviceId: string, live: { email: number; sms: number }): Promise<void> {
  await db
    .updateTable('services')
    .set({
      restricted: false,
      go_live_at: new Date(),
      email_message_limit: sql<number>`greatest(email_message_limit, ${live.email})`,
      sms_message_limit: sql<number>`greatest(sms_message_limit, ${live.sms})`,
      updated_at: new Date(),
    })
    .where('id', '=', serviceId)
    .execute();
}
