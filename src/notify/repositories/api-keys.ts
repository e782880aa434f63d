/** API keys (api_keys): their secrets are sealed by the caller; this module only stores and finds rows. */
import type { Selectable } from 'kysely';
import type { Db } from '../../platform/database/connection.ts';
import type { ApiKeysTable } from '../../platform/database/schema.ts';

export async function findApiKeyByName(
  db: Db,
  serviceId: string,
  name: string,
): Promise<Selectable<ApiKeysTable> | undefined> {
  return db
    .selectFrom('api_keys')
    .selectAll()
    .where('service_id', '=', serviceId)
    .where('name', '=', name)
    .executeTakeFirst();
}

/** Revokes a key from now on. */
export async function revokeApiKeyNow(db: Db, id: string): Promise<void> {
  await db.updateTable('api_keys').set({ expiry_date: new Date() }).where('id', '=', id).execute();
}
