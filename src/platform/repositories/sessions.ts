/** Sessions of the web UI (sessions), each with its account: the row's id is the hash of the cookie's token. */
import type { Insertable } from 'kysely';
import type { Session } from '../accounts/account.ts';
import type { Db } from '../database/connection.ts';
import type { SessionsTable } from '../database/schema.ts';
import { ACCOUNT_COLUMNS, toAccount } from './users.ts';

export async function insertSession(db: Db, values: Insertable<SessionsTable>): Promise<void> {
  await db.insertInto('sessions').values(values).execute();
}

/** The session with this id and its account, with the times that say whether it is still live. */
export async function findSession(
  db: Db,
  id: string,
): Promise<(Session & { lastSeenAt: Date; expiresAt: Date }) | null> {
  const row = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select([
      ...ACCOUNT_COLUMNS,
      'sessions.stage',
      'sessions.csrf_token',
      'sessions.created_at as session_created_at',
      'sessions.last_seen_at',
      'sessions.expires_at',
    ])
    .where('sessions.id', '=', id)
    .executeTakeFirst();
  if (!row) return null;
  return {
    id,
    stage: row.stage,
    csrfToken: row.csrf_token,
    createdAt: row.session_created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
    account: toAccount(row),
  };
}

export async function touchSession(db: Db, id: string, now: Date): Promise<void> {
  await db.updateTable('sessions').set({ last_seen_at: now }).where('id', '=', id).execute();
}

export async function deleteSession(db: Db, id: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', id).execute();
}

/** Ends every session of the user, and everyone's expired ones, so the table does not grow with abandoned ones. */
export async function deleteUserSessions(db: Db, userId: string, now: Date): Promise<void> {
  await db.deleteFrom('sessions').where('user_id', '=', userId).execute();
  await db.deleteFrom('sessions').where('expires_at', '<', now).execute();
}
