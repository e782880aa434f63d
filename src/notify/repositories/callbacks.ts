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
