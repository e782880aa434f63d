/** The authenticator apps' secrets (totp_secrets), sealed: one per user, unconfirmed until a code proves it. */
import type { Db } from '../database/connection.ts';

/** A new unconfirmed secret for the user, replacing any other. */
export async function replaceTotpSecret(db: Db, userId: string, secretSealed: string, now: Date): Promise<void> {
  await db
    .insertInto('totp_secrets')
    .values({ user_id: userId, secret_sealed: secretSealed, confirmed_at: null, last_used_step: null })
    .onConflict((oc) =>
      oc.column('user_id').doUpdateSet({
        secret_sealed: secretSealed,
        confirmed_at: null,
        last_used_step: null,
        created_at: now,
      }),
    )
    .execute();
}

export async function findTotpSecret(
  db: Db,
  userId: string,
): Promise<{ secretSealed: string; confirmedAt: Date | null; lastUsedStep: number | null } | null> {
  const row = await db.selectFrom('totp_secrets').selectAll().where('user_id', '=', userId).executeTakeFirst();
  return row
    ? { secretSealed: row.secret_sealed, confirmedAt: row.confirmed_at, lastUsedStep: row.last_used_step }
    : null;
}

export async function confirmTotpSecret(db: Db, userId: string, now: Date): Promise<void> {
  await db.updateTable('totp_secrets').set({ confirmed_at: now }).where('user_id', '=', userId).execute();
}

/** Records the time step of a code just used; false when that step (or a later one) was used already. */
export async function useTotpStep(db: Db, userId: string, step: number): Promise<boolean> {
  const used = await db
    .updateTable('totp_secrets')
    .set({ last_used_step: step })
    .where('user_id', '=', userId)
    .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)]))
    .returning('user_id')
    .executeTakeFirst();
  return used !== undefined;
}

export async function deleteTotpSecret(
  db: Db,
  userId: string,
  opts: { unconfirmedOnly?: boolean } = {},
): Promise<void> {
  let query = db.deleteFrom('totp_secrets').where('user_id', '=', userId);
  if (opts.unconfirmedOnly) query = query.where('confirmed_at', 'is', null);
  await query.execute();
}

/** Every sealed secret (by user id), for sealing again under a new secret key. */
export async function listSealedTotpSecrets(db: Db): Promise<{ id: string; sealed: string }[]> {
  return db.selectFrom('totp_secrets').select(['user_id as id', 'secret_sealed as sealed']).execute();
}

/** Replaces a sealed secret with the same secret sealed again, unless it changed since it was read. */
export async function resealTotpSecret(db: Db, userId: string, was: string, sealed: string): Promise<boolean> {
  const result = await db
    .updateTable('totp_secrets')
    .set({ secret_sealed: sealed })
    .where('user_id', '=', userId)
    .where('secret_sealed', '=', was)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
