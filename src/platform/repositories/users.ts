/** The people who use Envoi (users): found and written by email address. */
import type { Db } from '../database/connection.ts';

export interface UserDetails {
  name: string;
  email: string;
  mobile: string | null;
}

/**
 * Makes the user with this (normalised) email address have this name and mobile number, creating them if needed;
 * returns their id.
 */
export async function upsertUserByEmail(db: Db, user: UserDetails): Promise<string> {
  const existing = await db
    .selectFrom('users')
    .select(['id', 'name', 'mobile_number'])
    .where('email_address', '=', user.email)
    .executeTakeFirst();
  if (!existing) {
    const inserted = await db
      .insertInto('users')
      .values({ name: user.name, email_address: user.email, mobile_number: user.mobile })
      .returning('id')
      .executeTakeFirstOrThrow();
    return inserted.id;
  }
  if (existing.name !== user.name || existing.mobile_number !== user.mobile) {
    await db
      .updateTable('users')
      .set({ name: user.name, mobile_number: user.mobile })
      .where('id', '=', existing.id)
      .execute();
  }
  return existing.id;
}

/**
 * Envoi itself as a user (`envoi@<email domain>`): the author of templates provisioned without a team, and the
 * sender of jobs sent through the API or the CLI, since the API's `created_by` is an email address clients require.
 */
export async function systemUserId(db: Db, emailDomain: string): Promise<string> {
  const email = `envoi@${emailDomain}`;
  const existing = await db.selectFrom('users').select('id').where('email_address', '=', email).executeTakeFirst();
  if (existing) return existing.id;
  const inserted = await db
    .insertInto('users')
    .values({ name: 'Envoi', email_address: email, mobile_number: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  return inserted.id;
}
