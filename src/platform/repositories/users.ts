/** The people who use Envoi (users): found and written by email address, and read as accounts of the web UI. */
import { sql, type Insertable, type Updateable } from 'kysely';
import type { Account } from '../accounts/account.ts';
import type { Db } from '../database/connection.ts';
import type { UsersTable } from '../database/schema.ts';
import { insertAuditEvent } from './audit-events.ts';

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

/** The columns of an account, qualified so that joins (sessions) can select them too. */
export const ACCOUNT_COLUMNS = [
  'users.id',
  'users.name',
  'users.email_address',
  'users.mobile_number',
  'users.platform_admin',
  'users.state',
  'users.auth_type',
  'users.language',
  'users.locked_until',
  'users.failed_login_count',
  'users.created_at',
  'users.last_signed_in_at',
] as const;

type AccountRow = {
  id: string;
  name: string;
  email_address: string;
  mobile_number: string | null;
  platform_admin: boolean;
  state: Account['state'];
  auth_type: Account['authType'];
  language: Account['language'];
  locked_until: Date | null;
  failed_login_count: number;
  created_at: Date;
  last_signed_in_at: Date | null;
};

export function toAccount(r: AccountRow): Account {
  return {
    id: r.id,
    name: r.name,
    email: r.email_address,
    mobileNumber: r.mobile_number,
    platformAdmin: r.platform_admin,
    state: r.state,
    authType: r.auth_type,
    language: r.language,
    lockedUntil: r.locked_until,
    failedLoginCount: r.failed_login_count,
    createdAt: r.created_at,
    lastSignedInAt: r.last_signed_in_at,
  };
}

/** Whether anyone can sign in: someone with a password, or a platform admin still to choose one. */
export async function anyAccountExists(db: Db): Promise<boolean> {
  const row = await db
    .selectFrom('users')
    .select('id')
    .where((eb) => eb.or([eb('password_hash', 'is not', null), eb('platform_admin', '=', true)]))
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export async function findAccountById(db: Db, id: string): Promise<Account | null> {
  const row = await db.selectFrom('users').select(ACCOUNT_COLUMNS).where('id', '=', id).executeTakeFirst();
  return row ? toAccount(row) : null;
}

/** Email addresses are compared without case. */
export async function findAccountByEmail(db: Db, email: string): Promise<Account | null> {
  const row = await db
    .selectFrom('users')
    .select(ACCOUNT_COLUMNS)
    .where(sql`lower(email_address)`, '=', email.toLowerCase())
    .executeTakeFirst();
  return row ? toAccount(row) : null;
}

/** The account of an email address (compared without case) and its password's hash, to check a sign-in. */
export async function findAccountWithPassword(
  db: Db,
  email: string,
): Promise<{ account: Account; passwordHash: string | null } | null> {
  const row = await db
    .selectFrom('users')
    .select([...ACCOUNT_COLUMNS, 'users.password_hash'])
    .where(sql`lower(email_address)`, '=', email.toLowerCase())
    .executeTakeFirst();
  return row ? { account: toAccount(row), passwordHash: row.password_hash } : null;
}

/** Accounts people use (with a password, platform admins, or awaiting confirmation), by email address. */
export async function listAccounts(db: Db): Promise<Account[]> {
  const rows = await db
    .selectFrom('users')
    .select(ACCOUNT_COLUMNS)
    .where((eb) =>
      eb.or([eb('password_hash', 'is not', null), eb('platform_admin', '=', true), eb('state', '=', 'pending')]),
    )
    .orderBy('users.email_address')
    .execute();
  return rows.map(toAccount);
}

export async function userHasPassword(db: Db, userId: string): Promise<boolean> {
  const row = await db.selectFrom('users').select('password_hash').where('id', '=', userId).executeTakeFirst();
  return !!row?.password_hash;
}

/** Counts one more failed password or code; returns the count. */
export async function countFailedLogin(db: Db, userId: string): Promise<number> {
  const row = await db
    .updateTable('users')
    .set({ failed_login_count: sql`failed_login_count + 1` })
    .where('id', '=', userId)
    .returning('failed_login_count')
    .executeTakeFirstOrThrow();
  return row.failed_login_count;
}

/** A pending account's address is confirmed (an active or archived one stays as it is). */
export async function activatePendingUser(db: Db, userId: string, now: Date): Promise<void> {
  await db
    .updateTable('users')
    .set({ state: 'active', email_confirmed_at: now })
    .where('id', '=', userId)
    .where('state', '=', 'pending')
    .execute();
}

/**
 * A new password from a link sent by email: the mailbox is proven, so the address is confirmed (when it was not)
 * and a lockout is lifted. An archived account is left alone.
 */
export async function setPasswordFromLink(db: Db, userId: string, passwordHash: string, now: Date): Promise<void> {
  await db
    .updateTable('users')
    .set({
      password_hash: passwordHash,
      password_changed_at: now,
      failed_login_count: 0,
      locked_until: null,
      state: 'active',
      email_confirmed_at: sql`coalesce(email_confirmed_at, now())`,
    })
    .where('id', '=', userId)
    .where('state', '!=', 'archived')
    .execute();
}

/**
 * The first platform admin, from the first-run page, in one transaction: null once any account exists. An
 * existing user of that address becomes the admin.
 */
export async function createFirstPlatformAdmin(
  db: Db,
  input: {
    name: string;
    email: string;
    passwordHash: string;
    language: Account['language'];
    ip: string | null;
    now: Date;
  },
): Promise<Account | null> {
  return db.transaction().execute(async (trx) => {
    // Serialises two first-run submissions racing each other.
    await sql`SELECT pg_advisory_xact_lock(4206012)`.execute(trx);
    if (await anyAccountExists(trx)) return null;
    const existing = await trx
      .selectFrom('users')
      .select('id')
      .where(sql`lower(email_address)`, '=', input.email.toLowerCase())
      .executeTakeFirst();
    const values = {
      name: input.name,
      password_hash: input.passwordHash,
      platform_admin: true,
      state: 'active' as const,
      email_confirmed_at: input.now,
      language: input.language,
      password_changed_at: input.now,
    };
    const id = existing
      ? (
          await trx
            .updateTable('users')
            .set(values)
            .where('id', '=', existing.id)
            .returning('id')
            .executeTakeFirstOrThrow()
        ).id
      : await insertUser(trx, { ...values, email_address: input.email });
    await insertAuditEvent(trx, {
      event: 'platform-admin-created',
      actorId: null,
      userId: id,
      ip: input.ip,
      details: { via: 'first-run' },
    });
    return (await findAccountById(trx, id))!;
  });
}
