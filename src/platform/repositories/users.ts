/** The people who use Envoi (users): found and written by email address. */
import { sql, type Insertable, type Updateable } from 'kysely';
import type { Db } from '../database/connection.ts';
import type { UsersTable } from '../database/schema.ts';

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

/** The user with this email address, whatever its case: whether they have a password, and their state. */
export async function findUserByEmailAnyCase(db: Db, email: string) {
  return db
    .selectFrom('users')
    .select(['id', 'password_hash', 'state'])
    .where(sql`lower(email_address)`, '=', email.toLowerCase())
    .executeTakeFirst();
}

/** Whether someone with this email address (whatever its case) has a password, so can sign in. */
export async function userWithPasswordExists(db: Db, email: string): Promise<boolean> {
  const row = await db
    .selectFrom('users')
    .select('id')
    .where(sql`lower(email_address)`, '=', email.toLowerCase())
    .where('password_hash', 'is not', null)
    .executeTakeFirst();
  return row !== undefined;
}

export async function insertUser(db: Db, values: Insertable<UsersTable>): Promise<string> {
  return (await db.insertInto('users').values(values).returning('id').executeTakeFirstOrThrow()).id;
}

export async function updateUser(db: Db, id: string, values: Updateable<UsersTable>): Promise<string> {
  return (await db.updateTable('users').set(values).where('id', '=', id).returning('id').executeTakeFirstOrThrow()).id;
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
