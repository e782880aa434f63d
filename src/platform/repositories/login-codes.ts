/** The codes sent by email or text message for the second step of signing in (login_codes), kept as keyed hashes. */
import { sql } from 'kysely';
import type { Db } from '../database/connection.ts';
import type { LoginCodesTable } from '../database/schema.ts';

/** Stores a new code; the user's older unused ones stop working. */
export async function replaceLoginCode(
  db: Db,
  input: { userId: string; method: LoginCodesTable['method']; codeHash: string; now: Date; expiresAt: Date },
): Promise<void> {
  await db
    .updateTable('login_codes')
    .set({ used_at: input.now })
    .where('user_id', '=', input.userId)
    .where('used_at', 'is', null)
    .execute();
  await db
    .insertInto('login_codes')
    .values({
      user_id: input.userId,
      method: input.method,
      code_hash: input.codeHash,
      created_at: input.now,
      expires_at: input.expiresAt,
    })
    .execute();
}

/** The user's newest code still unused and unexpired. */
export async function findLatestLoginCode(
  db: Db,
  userId: string,
  now: Date,
): Promise<{ id: string; codeHash: string; attempts: number } | null> {
  const row = await db
    .selectFrom('login_codes')
    .selectAll()
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? { id: row.id, codeHash: row.code_hash, attempts: row.attempts } : null;
}

/** Spends a code; false when another use spent it first. */
export async function spendLoginCode(db: Db, id: string, now: Date): Promise<boolean> {
  const spent = await db
    .updateTable('login_codes')
    .set({ used_at: now })
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return spent !== undefined;
}

export async function countLoginCodeAttempt(db: Db, id: string): Promise<void> {
  await db.updateTable('login_codes').set({ attempts: sql`attempts + 1` }).where('id', '=', id).execute();
}
