/** A service's callback settings (service_callbacks) and the secret that signs its callbacks (services). */
import type { Db } from '../../platform/database/connection.ts';
import type { CallbackType } from '../vocabulary.ts';

export async function hasCallbacks(db: Db, serviceId: string): Promise<boolean> {
  const any = await db
    .selectFrom('service_callbacks')
    .select('id')
    .where('service_id', '=', serviceId)
    .executeTakeFirst();
  return any !== undefined;
}

/** The service's sealed webhook secret: null when it has none yet, undefined when there is no such service. */
export async function findWebhookSecretSealed(db: Db, serviceId: string): Promise<string | null | undefined> {
  const row = await db
    .selectFrom('services')
    .select('webhook_secret_sealed')
    .where('id', '=', serviceId)
    .executeTakeFirst();
  return row?.webhook_secret_sealed;
}

/** Stores the sealed secret unless the service has one already; false when another caller stored one first. */
export async function storeWebhookSecretIfUnset(db: Db, serviceId: string, sealed: string): Promise<boolean> {
  const stored = await db
    .updateTable('services')
    .set({ webhook_secret_sealed: sealed })
    .where('id', '=', serviceId)
    .where('webhook_secret_sealed', 'is', null)
    .executeTakeFirst();
  return stored.numUpdatedRows > 0n;
}

export async function findCallback(db: Db, serviceId: string, type: CallbackType) {
  return db
    .selectFrom('service_callbacks')
    .selectAll()
    .where('service_id', '=', serviceId)
    .where('callback_type', '=', type)
    .executeTakeFirst();
}

/** A callback's URL and sealed token; null disabled_at and reason re-enable it. */
export interface CallbackValues {
  url: string;
  bearer_token_sealed: string;
  disabled_at: null;
  disabled_reason: null;
}

export async function updateCallback(db: Db, id: string, values: CallbackValues): Promise<void> {
  await db
    .updateTable('service_callbacks')
    .set({ ...values, updated_at: new Date() })
    .where('id', '=', id)
    .execute();
}

/** Adds the service's callback of this type, or replaces it if another caller added one since. */
export async function insertCallback(
  db: Db,
  serviceId: string,
  type: CallbackType,
  values: CallbackValues,
): Promise<void> {
  await db
    .insertInto('service_callbacks')
    .values({ service_id: serviceId, callback_type: type, ...values })
    .onConflict((oc) => oc.columns(['service_id', 'callback_type']).doUpdateSet({ ...values, updated_at: new Date() }))
    .execute();
}

export async function deleteCallback(db: Db, serviceId: string, type: CallbackType): Promise<boolean> {
  const result = await db
    .deleteFrom('service_callbacks')
    .where('service_id', '=', serviceId)
    .where('callback_type', '=', type)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** The service's callbacks without their tokens, by type. */
export async function listServiceCallbacks(db: Db, serviceId: string) {
  return db
    .selectFrom('service_callbacks')
    .select(['callback_type', 'url', 'disabled_at', 'disabled_reason'])
    .where('service_id', '=', serviceId)
    .orderBy('callback_type')
    .execute();
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

/** Every callback's sealed bearer token, for sealing again under a new secret key. */
export async function listSealedCallbackTokens(db: Db): Promise<{ id: string; sealed: string }[]> {
  return db.selectFrom('service_callbacks').select(['id', 'bearer_token_sealed as sealed']).execute();
}

/** Replaces a callback's sealed token with the same token sealed again, unless it changed since it was read. */
export async function resealCallbackToken(db: Db, id: string, was: string, sealed: string): Promise<boolean> {
  const result = await db
    .updateTable('service_callbacks')
    .set({ bearer_token_sealed: sealed })
    .where('id', '=', id)
    .where('bearer_token_sealed', '=', was)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Every service's sealed webhook signing secret, for sealing again under a new secret key. */
export async function listSealedWebhookSecrets(db: Db): Promise<{ id: string; sealed: string }[]> {
  const rows = await db
    .selectFrom('services')
    .select(['id', 'webhook_secret_sealed as sealed'])
    .where('webhook_secret_sealed', 'is not', null)
    .execute();
  return rows.map((r) => ({ id: r.id, sealed: r.sealed! }));
}

/** Replaces a service's sealed webhook secret with the same secret sealed again, unless it changed since. */
export async function resealWebhookSecret(db: Db, serviceId: string, was: string, sealed: string): Promise<boolean> {
  const result = await db
    .updateTable('services')
    .set({ webhook_secret_sealed: sealed })
    .where('id', '=', serviceId)
    .where('webhook_secret_sealed', '=', was)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
