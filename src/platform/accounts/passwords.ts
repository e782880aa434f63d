/** Passwords: the rules a new one must meet, and argon2id hashes to keep and check them. */
import { readFileSync } from 'node:fs';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';

export const PASSWORD_MIN_LENGTH = 8;

export type PasswordProblem = 'too-short' | 'too-long' | 'common';

const COMMON_PASSWORDS: ReadonlySet<string> = new Set(
  readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#')),
);

/** Null when the password is acceptable. Compared without case: "Password1" is as common as "password1". */
export function passwordProblem(password: string): PasswordProblem | null {
  if ([...password].length < PASSWORD_MIN_LENGTH) return 'too-short';
  if (password.length > 256) return 'too-long';
  if (COMMON_PASSWORDS.has(password.toLowerCase())) return 'common';
  return null;
}

export function hashPassword(password: string): Promise<string> {
  return argon2Hash(password);
}

/** False, never an error, when the hash is not one argon2 reads. */
export function passwordMatches(passwordHash: string, password: string): Promise<boolean> {
  return argon2Verify(passwordHash, password).catch(() => false);
}

// A hash to verify against when the email is unknown, so that the answer takes as long as for a real account.
let dummyHash: Promise<string> | null = null;

/** Takes as long as checking a password, for an address with no account. */
export async function checkNoPassword(password: string): Promise<void> {
  dummyHash ??= argon2Hash('not a real password, only for timing');
  await passwordMatches(await dummyHash, password);
}
