/** The single-use links sent by email (account_tokens), kept as the hash of their token. */
import type { Db } from '../database/connection.ts';
import type { AccountTokensTable } from '../database/schema.ts';

type Purpose = AccountTokensTable['purpose'];

/** Stores a new link's token; it replaces the user's older unused ones of the same kind. */
export async function replaceAccountToken(
  db: Db,
  input: { tokenHash: string; userId: string; purpose: Purpose; expiresAt: Date; now: Date },
): Promise<void> {
  await db
    .updateTable('account_tokens')
    .set({ used_at: input.now })
    .where('user_id', '=', input.userId)
    .where('purpose', '=', input.purpose)
    .where('used_at', 'is', null)
    .execute();
  await db
    .insertInto('account_tokens')
    .values({ token_hash: input.tokenHash, user_id: input.userId, purpose: input.purpose, expires_at: input.expiresAt })
    .execute();
}

/** The user of an unused, unexpired token, which stays usable. */
export async function findTokenUser(db: Db, tokenHash: string, purpose: Purpose, now: Date): Promise<string | null> {
  const row = await db
    .selectFrom('account_tokens')
    .select('user_id')
    .where('token_hash', '=', tokenHash)
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return row?.user_id ?? null;
}

/** Spends an unused, unexpired token; returns its user (null when it was not usable, or another use won). */
export async function spendAccountToken(
  db: Db,
  tokenHash: string,
  purpose: Purpose,
  now: Date,
): Promise<string | null> {
  const row = await db
    .updateTable('account_tokens')
    .set({ used_at: now })
    .where('token_hash', '=', tokenHash)
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returning('user_id')
    .executeTakeFirst();
  return row?.user_id ?? null;
}
