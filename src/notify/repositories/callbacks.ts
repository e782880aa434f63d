/** A service's callback settings (service_callbacks). */
import type { Db } from '../../platform/database/connection.ts';

export async function hasCallbacks(db: Db, serviceId: string): Promise<boolean> {
  const any = await db
    .selectFrom('service_callbacks')
    .select('id')
    .where('service_id', '=', serviceId)
    .executeTakeFirst();
  return any !== undefined;
}

/** The callbacks of these services, with their service's sealed webhook secret. */
export async function findCallbackReceivers(db: Db, serviceIds: readonly string[]) {
  return db
    .selectFrom('service_callbacks as c')
    .innerJoin('services as s', 's.id', 'c.service_id')
    .select([
      'c.service_id',
      'c.callback_type',
      'c.url',
      'c.bearer_token_sealed',
      'c.disabled_at',
      'c.disabled_reason',
      's.webhook_secret_sealed',
    ])
    .where('c.service_id', 'in', serviceIds)
    .execute();
}
