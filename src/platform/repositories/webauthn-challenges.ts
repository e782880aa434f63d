/**
 * The challenges of security key ceremonies (webauthn_challenges): each belongs to one session and one person, and
 * is taken (deleted) when checked.
 */
import type { ColumnType, Generated } from 'kysely';
import type { Db } from '../database/connection.ts';

export type ChallengePurpose = 'register' | 'sign-in';

interface WebauthnChallengesTable {
  id: Generated<string>;
  session_id: string;
  user_id: string;
  purpose: ChallengePurpose;
  challenge: string;
  key_name: string | null;
  created_at: ColumnType<Date, Date | undefined, never>;
  expires_at: Date;
}

// The challenges table is the security keys' alone (migration 010), so its type lives here.
const withChallenges = (db: Db) => db.withTables<{ webauthn_challenges: WebauthnChallengesTable }>();

/** Keeps one challenge per session and purpose (a new one replaces the last), and clears everyone's expired ones. */
export async function replaceChallenge(
  db: Db,
  input: {
    sessionId: string;
    userId: string;
    purpose: ChallengePurpose;
    challenge: string;
    keyName: string | null;
    now: Date;
    expiresAt: Date;
  },
): Promise<string> {
  const challenges = withChallenges(db);
  await challenges
    .deleteFrom('webauthn_challenges')
    .where('session_id', '=', input.sessionId)
    .where('purpose', '=', input.purpose)
    .execute();
  await challenges.deleteFrom('webauthn_challenges').where('expires_at', '<', input.now).execute();
  const row = await challenges
    .insertInto('webauthn_challenges')
    .values({
      session_id: input.sessionId,
      user_id: input.userId,
      purpose: input.purpose,
      challenge: input.challenge,
      key_name: input.keyName,
      expires_at: input.expiresAt,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Deletes the challenge of this session, person and purpose, and returns it (expired or not). */
export async function deleteChallenge(
  db: Db,
  input: { id: string; sessionId: string; userId: string; purpose: ChallengePurpose },
): Promise<{ challenge: string; keyName: string | null; expiresAt: Date } | null> {
  const row = await withChallenges(db)
    .deleteFrom('webauthn_challenges')
    .where('id', '=', input.id)
    .where('session_id', '=', input.sessionId)
    .where('user_id', '=', input.userId)
    .where('purpose', '=', input.purpose)
    .returning(['challenge', 'key_name', 'expires_at'])
    .executeTakeFirst();
  return row ? { challenge: row.challenge, keyName: row.key_name, expiresAt: row.expires_at } : null;
}
