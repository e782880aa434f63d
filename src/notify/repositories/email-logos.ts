/** The uploaded logo of a service's emails (email_logos), apart from services so that reading one never loads it. */
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
