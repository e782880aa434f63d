/**
 * Random tokens, for session cookies and the single-use links sent by email, stored only as their SHA-256 hash; and
 * the links' tokens themselves (one unused link of each kind per person).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../database/connection.ts';
import { findTokenUser, replaceAccountToken, spendAccountToken } from '../repositories/account-tokens.ts';

const TOKEN_HOURS = { 'confirm-email': 24, 'reset-password': 1, 'set-password': 72 } as const;

export type TokenPurpose = keyof typeof TOKEN_HOURS;

export const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');
export const newToken = () => randomBytes(32).toString('base64url');

/** A new link's token; a new link replaces older unused ones of the same kind. */
export async function issueToken(db: Db, now: Date, userId: string, purpose: TokenPurpose): Promise<string> {
  const token = newToken();
  const expiresAt = new Date(now.getTime() + TOKEN_HOURS[purpose] * 3600_000);
  await replaceAccountToken(db, { tokenHash: sha256(token), userId, purpose, expiresAt, now });
  return token;
}

/** The user of a link, if the link is unused and unexpired. */
export function tokenUser(db: Db, now: Date, token: string, purpose: TokenPurpose): Promise<string | null> {
  return findTokenUser(db, sha256(token), purpose, now);
}

/** Spends a link: its user, or null when it was not usable. */
export function consumeToken(db: Db, now: Date, token: string, purpose: TokenPurpose): Promise<string | null> {
  return spendAccountToken(db, sha256(token), purpose, now);
}
