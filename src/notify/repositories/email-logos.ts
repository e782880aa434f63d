/**
 * The uploaded logo of a service's emails (email_logos), apart from services so that reading one never loads it;
 * and the branding each service chose, as rendering reads it.
 */
import type { Db } from '../../platform/database/connection.ts';

export interface LogoValues {
  content_type: 'image/png' | 'image/jpeg';
  bytes: Uint8Array;
  alt_en: string;
  alt_fr: string;
  created_at: Date;
}

export async function hasLogo(db: Db, serviceId: string): Promise<boolean> {
  const row = await db
    .selectFrom('email_logos')
    .select('service_id')
    .where('service_id', '=', serviceId)
    .executeTakeFirst();
  return row !== undefined;
}

/** Stores the service's logo, replacing the one it had. */
export async function saveLogo(db: Db, serviceId: string, values: LogoValues): Promise<void> {
  await db
    .insertInto('email_logos')
    .values({ service_id: serviceId, ...values })
    .onConflict((oc) => oc.column('service_id').doUpdateSet(values))
    .execute();
}

export async function updateLogoAltText(db: Db, serviceId: string, altEn: string, altFr: string): Promise<void> {
  await db
    .updateTable('email_logos')
    .set({ alt_en: altEn, alt_fr: altFr })
    .where('service_id', '=', serviceId)
    .execute();
}

export async function findLogo(db: Db, serviceId: string) {
  return db
    .selectFrom('email_logos')
    .select(['content_type', 'bytes'])
    .where('service_id', '=', serviceId)
    .executeTakeFirst();
}

/** The branding each service chose, with its stored logo's type, alt text and time (never its bytes). */
export async function findBrandingChoices(db: Db, serviceIds: readonly string[]) {
  return db
    .selectFrom('services as s')
    .leftJoin('email_logos as l', 'l.service_id', 's.id')
    .select(['s.id', 's.email_branding', 'l.content_type', 'l.alt_en', 'l.alt_fr', 'l.created_at as logo_at'])
    .where('s.id', 'in', serviceIds)
    .execute();
}

/** The stored logos of these services, bytes included. */
export async function findLogos(db: Db, serviceIds: readonly string[]) {
  return db
    .selectFrom('email_logos')
    .select(['service_id', 'content_type', 'bytes', 'alt_en', 'alt_fr', 'created_at'])
    .where('service_id', 'in', serviceIds)
    .execute();
}
