/** The security keys people registered (webauthn_credentials): the public key and signature counter of each. */
import type { Insertable, Selectable } from 'kysely';
import type { SecurityKey } from '../accounts/account.ts';
import type { Db } from '../database/connection.ts';
import type { WebauthnCredentialsTable } from '../database/schema.ts';
import { insertAuditEvent } from './audit-events.ts';

const KEY_COLUMNS = ['id', 'name', 'created_at', 'last_used_at'] as const;

function toSecurityKey(r: { id: string; name: string; created_at: Date; last_used_at: Date | null }): SecurityKey {
  return { id: r.id, name: r.name, createdAt: r.created_at, lastUsedAt: r.last_used_at };
}

export async function listUserSecurityKeys(db: Db, userId: string): Promise<SecurityKey[]> {
  const rows = await db
    .selectFrom('webauthn_credentials')
    .select(KEY_COLUMNS)
    .where('user_id', '=', userId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(toSecurityKey);
}

/** The user's credentials as the browser knows them: its id for each, and how it reaches the key. */
export async function listUserCredentialIds(
  db: Db,
  userId: string,
): Promise<Pick<Selectable<WebauthnCredentialsTable>, 'credential_id' | 'transports'>[]> {
  return db
    .selectFrom('webauthn_credentials')
    .select(['credential_id', 'transports'])
    .where('user_id', '=', userId)
    .execute();
}

export async function findUserCredential(
  db: Db,
  userId: string,
  credentialId: string,
): Promise<Selectable<WebauthnCredentialsTable> | undefined> {
  return db
    .selectFrom('webauthn_credentials')
    .selectAll()
    .where('user_id', '=', userId)
    .where('credential_id', '=', credentialId)
    .executeTakeFirst();
}

/** Keeps a new key; null when that credential is registered already. */
export async function insertCredential(
  db: Db,
  values: Insertable<WebauthnCredentialsTable>,
): Promise<SecurityKey | null> {
  const row = await db
    .insertInto('webauthn_credentials')
    .values(values)
    .onConflict((oc) => oc.column('credential_id').doNothing())
    .returning(KEY_COLUMNS)
    .executeTakeFirst();
  return row ? toSecurityKey(row) : null;
}

/**
 * Moves a key's signature counter on, only from the counter that was checked: of two answers racing with the same
 * counter, one wins (null for the other).
 */
export async function advanceCredentialCounter(
  db: Db,
  input: { id: string; checkedCounter: number; newCounter: number; now: Date },
): Promise<SecurityKey | null> {
  const row = await db
    .updateTable('webauthn_credentials')
    .set({ counter: input.newCounter, last_used_at: input.now })
    .where('id', '=', input.id)
    .where('counter', '=', input.checkedCounter)
    .returning(KEY_COLUMNS)
    .executeTakeFirst();
  return row ? toSecurityKey(row) : null;
}

/** Removes every key of the user; returns their names. */
export async function deleteUserCredentials(db: Db, userId: string): Promise<string[]> {
  const removed = await db.deleteFrom('webauthn_credentials').where('user_id', '=', userId).returning('name').execute();
  return removed.map((key) => key.name);
}

/**
 * Removes one of the user's keys and records it in the audit log, in one transaction, but never the last one while
 * security keys are their way of signing in.
 */
export async function deleteCredentialUnlessLast(
  db: Db,
  input: { userId: string; keyId: string; actorId: string; ip: string | null },
): Promise<{ kind: 'removed'; name: string } | { kind: 'last' } | { kind: 'not-found' }> {
  return db.transaction().execute(async (trx) => {
    // Locks the person, so that two removals at once cannot both see a spare key.
    const user = await trx
      .selectFrom('users')
      .select('auth_type')
      .where('id', '=', input.userId)
      .forUpdate()
      .executeTakeFirst();
    if (!user) return { kind: 'not-found' as const };
    const keys = await trx
      .selectFrom('webauthn_credentials')
      .select(['id', 'name'])
      .where('user_id', '=', input.userId)
      .execute();
    const key = keys.find((k) => k.id === input.keyId.toLowerCase());
    if (!key) return { kind: 'not-found' as const };
    if (keys.length === 1 && user.auth_type === 'security_key') return { kind: 'last' as const };
    await trx.deleteFrom('webauthn_credentials').where('id', '=', key.id).where('user_id', '=', input.userId).execute();
    await insertAuditEvent(trx, {
      event: 'security-key-removed',
      actorId: input.actorId,
      userId: input.userId,
      ip: input.ip,
      details: { securityKeyName: key.name },
    });
    return { kind: 'removed' as const, name: key.name };
  });
}
