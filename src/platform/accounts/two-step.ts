/**
 * The second step of signing in: a 6-digit code sent by email or text message, or a code from an authenticator
 * app (TOTP). Security keys are in security-keys.ts.
 */
import { randomInt } from 'node:crypto';
import { generateSecret, generateURI, verify as verifyTotpCode } from 'otplib';
import type { Db } from '../database/connection.ts';
import {
  countLoginCodeAttempt,
  findLatestLoginCode,
  replaceLoginCode,
  spendLoginCode,
} from '../repositories/login-codes.ts';
import { findTotpSecret, replaceTotpSecret, useTotpStep } from '../repositories/totp-secrets.ts';
import type { SecretBox } from '../secret-box.ts';

export const CODE_MINUTES = 15;
const MAX_CODE_ATTEMPTS = 5;

// Keyed, because a 6-digit code is quick to find from a plain hash.
function codeHash(secrets: SecretBox, userId: string, code: string): string {
  return secrets.digest(`login-code:${userId}:${code}`);
}

/** The code's hash under each key: a code sent just before the secret key was rotated still works. */
function codeHashes(secrets: SecretBox, userId: string, code: string): string[] {
  return secrets.digests(`login-code:${userId}:${code}`);
}

/** A new 6-digit code (older ones stop working); the caller sends it. */
export async function issueCode(
  db: Db,
  secrets: SecretBox,
  now: Date,
  userId: string,
  method: 'email' | 'sms',
): Promise<string> {
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  await replaceLoginCode(db, {
    userId,
    method,
    codeHash: codeHash(secrets, userId, code),
    now,
    expiresAt: new Date(now.getTime() + CODE_MINUTES * 60_000),
  });
  return code;
}

/** Checks a code against the newest one sent, which allows a few wrong attempts and is used once. */
export async function verifyCode(
  db: Db,
  secrets: SecretBox,
  now: Date,
  userId: string,
  code: string,
): Promise<boolean> {
  const cleaned = code.replace(/\s+/g, '');
  const row = await findLatestLoginCode(db, userId, now);
  if (!row || row.attempts >= MAX_CODE_ATTEMPTS) return false;
  if (/^\d{6}$/.test(cleaned) && codeHashes(secrets, userId, cleaned).includes(row.codeHash)) {
    return spendLoginCode(db, row.id, now);
  }
  await countLoginCodeAttempt(db, row.id);
  return false;
}

/** The link an authenticator app reads from the QR code. */
export function totpUri(issuer: string | undefined, label: string, secret: string): string {
  return generateURI({ issuer: issuer ?? 'Envoi', label, secret });
}

/** A new secret for an app, kept unconfirmed until a code from the app proves it was added. */
export async function beginTotp(db: Db, secrets: SecretBox, now: Date, userId: string): Promise<string> {
  const secret = generateSecret();
  await replaceTotpSecret(db, userId, secrets.seal(secret), now);
  return secret;
}

/** The secret being set up, or null when there is none or it is confirmed already. */
export async function pendingTotpSecret(db: Db, secrets: SecretBox, userId: string): Promise<string | null> {
  const row = await findTotpSecret(db, userId);
  if (!row || row.confirmedAt) return null;
  return secrets.open(row.secretSealed);
}

/** Checks a code from the app, one time step either way, and never the same step twice. */
export async function verifyTotp(
  db: Db,
  secrets: SecretBox,
  now: Date,
  input: { userId: string; code: string; pending?: boolean },
): Promise<boolean> {
  const cleaned = input.code.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(cleaned)) return false;
  const row = await findTotpSecret(db, input.userId);
  if (!row || (!input.pending && !row.confirmedAt)) return false;
  const result = await verifyTotpCode({
    secret: secrets.open(row.secretSealed),
    token: cleaned,
    epochTolerance: 30,
    epoch: Math.floor(now.getTime() / 1000),
    ...(row.lastUsedStep !== null ? { afterTimeStep: Number(row.lastUsedStep) } : {}),
  }).catch(() => ({ valid: false as const }));
  if (!result.valid) return false;
  return useTotpStep(db, input.userId, (result as { timeStep: number }).timeStep);
}
