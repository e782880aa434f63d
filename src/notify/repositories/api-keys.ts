/** API keys (api_keys): their secrets are sealed by the caller; this module only stores and finds rows. */
import type { Insertable, Selectable } from 'kysely';
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

/** Adds a key row; resolves its id. */
export async function insertApiKeyRow(db: Db, row: Insertable<ApiKeysTable>): Promise<string> {
  const inserted = await db.insertInto('api_keys').values(row).returning('id').executeTakeFirstOrThrow();
  return inserted.id;
}

const KEY_SUMMARY = ['id', 'name', 'key_type', 'created_at', 'expiry_date'] as const;

/** The service's keys without their secrets, newest first. */
export async function listApiKeySummaries(db: Db, serviceId: string) {
  return db
    .selectFrom('api_keys')
    .select(KEY_SUMMARY)
    .where('service_id', '=', serviceId)
    .orderBy('created_at', 'desc')
    .execute();
}

/** One of the service's keys without its secret. */
export async function findApiKeySummary(db: Db, serviceId: string, keyId: string) {
  return db
    .selectFrom('api_keys')
    .select(KEY_SUMMARY)
    .where('service_id', '=', serviceId)
    .where('id', '=', keyId)
    .executeTakeFirst();
}

export async function apiKeyNameExists(db: Db, serviceId: string, name: string): Promise<boolean> {
  const row = await db
    .selectFrom('api_keys')
    .select('id')
    .where('service_id', '=', serviceId)
    .where('name', '=', name)
    .executeTakeFirst();
  return row !== undefined;
}

/** Revokes a live key of the service from now on; false when there is none. */
export async function revokeLiveApiKey(db: Db, serviceId: string, keyId: string): Promise<boolean> {
  const result = await db
    .updateTable('api_keys')
    .set({ expiry_date: new Date() })
    .where('service_id', '=', serviceId)
    .where('id', '=', keyId)
    .where((eb) => eb.or([eb('expiry_date', 'is', null), eb('expiry_date', '>', new Date())]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Every key's sealed secret and digest, for sealing again under a new secret key. */
export async function listSealedApiKeys(db: Db): Promise<{ id: string; sealed: string; digest: string }[]> {
  return db.selectFrom('api_keys').select(['id', 'secret_sealed as sealed', 'secret_digest as digest']).execute();
}

/** Replaces a key's sealed secret and digest with those under the new key, unless the secret changed since. */
export async function resealApiKey(db: Db, id: string, was: string, sealed: string, digest: string): Promise<boolean> {
  const result = await db
    .updateTable('api_keys')
    .set({ secret_sealed: sealed, secret_digest: digest })
    .where('id', '=', id)
    .where('secret_sealed', '=', was)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
