/**
 * Server-side sessions of the web UI: the cookie holds a random token, the row its hash. A session is at the second
 * step of signing in for a few minutes, or signed in until it is idle too long or reaches its absolute limit.
 */
import type { Db } from '../database/connection.ts';
import { deleteSession, findSession, insertSession, touchSession } from '../repositories/sessions.ts';
import type { Session } from './account.ts';
import { newToken, sha256 } from './tokens.ts';

export const SESSION_IDLE_MINUTES = 30;
export const SESSION_ABSOLUTE_HOURS = 12;
/** Between the password and the second step. */
const SECOND_FACTOR_MINUTES = 15;
/** Last-seen times are written at most this often, not on every request. */
const TOUCH_SECONDS = 60;

/** A new session (and its cookie token) at `stage`; a session id is never reused across stages. */
export async function startSession(
  db: Db,
  now: Date,
  userId: string,
  stage: Session['stage'],
  meta: { ip: string | null; userAgent: string | null },
): Promise<string> {
  const token = newToken();
  const expires = new Date(
    now.getTime() + (stage === 'signed-in' ? SESSION_ABSOLUTE_HOURS * 3600_000 : SECOND_FACTOR_MINUTES * 60_000),
  );
  await insertSession(db, {
    id: sha256(token),
    user_id: userId,
    stage,
    csrf_token: newToken(),
    created_at: now,
    last_seen_at: now,
    expires_at: expires,
    ip: meta.ip,
    user_agent: meta.userAgent?.slice(0, 500) ?? null,
  });
  return token;
}

/** The live session of a cookie token, or null when unknown, expired or idle for too long. */
export async function liveSession(db: Db, now: Date, token: string): Promise<Session | null> {
  if (!token || token.length > 100) return null;
  const id = sha256(token);
  const found = await findSession(db, id);
  if (!found) return null;
  const { lastSeenAt, expiresAt, ...session } = found;
  const { account } = session;
  const idleLimit = now.getTime() - SESSION_IDLE_MINUTES * 60_000;
  if (
    expiresAt <= now ||
    lastSeenAt.getTime() < idleLimit ||
    account.state !== 'active' ||
    (account.lockedUntil && account.lockedUntil > now)
  ) {
    await deleteSession(db, id);
    return null;
  }
  if (now.getTime() - lastSeenAt.getTime() > TOUCH_SECONDS * 1000) await touchSession(db, id, now);
  return session;
}
