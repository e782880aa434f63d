/** API keys (api_keys): their secrets are sealed by the caller; this module only stores and finds rows. */
import type { Selectable } from 'kysely';
import type { Db } from '../../platform/database/connection.ts';
import type { ApiKeysTable } from '../schema.ts';

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

/** The service's keys, oldest first, with their sealed secrets. */
export async function listServiceApiKeys(db: Db, serviceId: string) {
  return db
    .selectFrom('api_keys')
    .select(['id', 'service_id', 'name', 'key_type', 'secret_sealed', 'expiry_date'])
    .where('service_id', '=', serviceId)
    .orderBy('created_at')
    .execute();
}

/** The service of the key whose secret has this keyed digest. */
export async function findApiKeyServiceByDigest(db: Db, digest: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('api_keys')
    .select(['service_id'])
    .where('secret_digest', '=', digest)
    .executeTakeFirst();
  return row?.service_id;
}
