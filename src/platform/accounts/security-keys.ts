/**
 * Security keys (WebAuthn) as the second step of signing in, with @simplewebauthn/server: adding a key, listing and
 * removing keys, and checking a key at sign-in. Each ceremony has a stored challenge that belongs to one session
 * and one person, is used once (deleted when checked) and expires after a few minutes. No HTTP here: the caller
 * says which site the browser is on (RP ID and origin).
 */
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Db } from '../database/connection.ts';
import type { Account, SecurityKey } from './account.ts';
import { recordAudit } from '../audit.ts';
import { isUuid } from '../ids.ts';
import { deleteChallenge, replaceChallenge, type ChallengePurpose } from '../repositories/webauthn-challenges.ts';
import {
  advanceCredentialCounter,
  deleteCredentialUnlessLast,
  findUserCredential,
  insertCredential,
  listUserCredentialIds,
  listUserSecurityKeys,
} from '../repositories/webauthn-credentials.ts';

export type { SecurityKey };

export const CHALLENGE_MINUTES = 5;
export const KEY_NAME_MAX = 50;
/** Enough for spares; it also bounds the list of keys sent to the browser with each ceremony. */
export const MAX_KEYS = 10;
/** The browser's answer is a few hundred bytes; anything far larger is not one. */
const RESPONSE_MAX_LENGTH = 64 * 1024;

/** The site the browser is on: keys are bound to `id` (a domain, never an IP address) and answers to `origin`. */
export interface RelyingParty {
  id: string;
  origin: string;
  name: string;
}

export interface Ceremony<Options> {
  challengeId: string;
  options: Options;
}

export type Purpose = ChallengePurpose;

export type RegistrationOutcome =
  | { kind: 'added'; key: SecurityKey }
  /** The challenge is unknown, used or too old: start again from the beginning. */
  | { kind: 'expired' }
  /** The challenge is spent; `name` lets the caller offer a new ceremony for the same key. */
  | { kind: 'failed' | 'already-registered'; name: string };

export type SignInOutcome =
  | { kind: 'ok'; key: SecurityKey }
  | { kind: 'expired' }
  | { kind: 'unknown-key' }
  | { kind: 'failed' };

export async function listSecurityKeys(db: Db, userId: string): Promise<SecurityKey[]> {
  return listUserSecurityKeys(db, userId);
}

export async function findSecurityKey(db: Db, userId: string, keyId: string): Promise<SecurityKey | null> {
  if (!isUuid(keyId)) return null;
  const keys = await listSecurityKeys(db, userId);
  return keys.find((k) => k.id === keyId.toLowerCase()) ?? null;
}

/** Options for navigator.credentials.create, and the stored challenge they carry. */
export async function beginRegistration(
  db: Db,
  input: { account: Account; sessionId: string; name: string; rp: RelyingParty; now?: Date },
): Promise<Ceremony<PublicKeyCredentialCreationOptionsJSON>> {
  const existing = await listUserCredentialIds(db, input.account.id);
  const options = await generateRegistrationOptions({
    rpName: input.rp.name,
    rpID: input.rp.id,
    userName: input.account.email,
    userDisplayName: input.account.name,
    // The same handle for every key of a person: the account's id, which tells nothing about them.
    userID: new Uint8Array(Buffer.from(input.account.id.replace(/-/g, ''), 'hex')),
    attestationType: 'none',
    excludeCredentials: existing.map((c) => ({ id: c.credential_id, transports: c.transports })),
    // A second step after the password: a touch is enough (no PIN), and nothing needs storing on the key.
    authenticatorSelection: { residentKey: 'discouraged', userVerification: 'discouraged' },
  });
  const challengeId = await storeChallenge(db, {
    ...input,
    purpose: 'register',
    challenge: options.challenge,
    keyName: input.name,
  });
  return { challengeId, options };
}

/** Checks the browser's answer to a registration and keeps the key. */
export async function finishRegistration(
  db: Db,
  input: {
    account: Account;
    sessionId: string;
    challengeId: string;
    response: string;
    rp: RelyingParty;
    ip: string | null;
    now?: Date;
  },
): Promise<RegistrationOutcome> {
  const taken = await takeChallenge(db, { ...input, purpose: 'register' });
  if (!taken) return { kind: 'expired' };
  const name = taken.keyName ?? '';
  const response = parseResponse(input.response) as RegistrationResponseJSON | null;
  if (!response) return { kind: 'failed', name };
  let verified;
  try {
    verified = await verifyRegistrationResponse({
      response,
      expectedChallenge: taken.challenge,
      expectedOrigin: input.rp.origin,
      expectedRPID: input.rp.id,
      requireUserVerification: false,
    });
  } catch {
    return { kind: 'failed', name };
  }
  if (!verified.verified) return { kind: 'failed', name };
  const { credential } = verified.registrationInfo;
  const key = await insertCredential(db, {
    user_id: input.account.id,
    credential_id: credential.id,
    public_key: Buffer.from(credential.publicKey).toString('base64url'),
    counter: credential.counter,
    transports: credential.transports ?? [],
    name,
    created_at: input.now ?? new Date(),
  });
  if (!key) return { kind: 'already-registered', name };
  await recordAudit(db, {
    event: 'security-key-added',
    actorId: input.account.id,
    userId: input.account.id,
    ip: input.ip,
    details: { securityKeyName: name },
  });
  return { kind: 'added', key };
}

/** Options for navigator.credentials.get listing the person's keys; null when they have none. */
export async function beginSignIn(
  db: Db,
  input: { account: Account; sessionId: string; rp: RelyingParty; now?: Date },
): Promise<Ceremony<PublicKeyCredentialRequestOptionsJSON> | null> {
  const keys = await listUserCredentialIds(db, input.account.id);
  if (keys.length === 0) return null;
  const options = await generateAuthenticationOptions({
    rpID: input.rp.id,
    allowCredentials: keys.map((k) => ({ id: k.credential_id, transports: k.transports })),
    userVerification: 'discouraged',
  });
  const challengeId = await storeChallenge(db, {
    ...input,
    purpose: 'sign-in',
    challenge: options.challenge,
    keyName: null,
  });
  return { challengeId, options };
}

/**
 * Checks the browser's answer at sign-in against one of the person's keys, and moves the key's signature
 * counter on (a counter that goes backwards means a cloned key: refused, by the library's check).
 */
export async function finishSignIn(
  db: Db,
  input: { account: Account; sessionId: string; challengeId: string; response: string; rp: RelyingParty; now?: Date },
): Promise<SignInOutcome> {
  const taken = await takeChallenge(db, { ...input, purpose: 'sign-in' });
  if (!taken) return { kind: 'expired' };
  const response = parseResponse(input.response) as AuthenticationResponseJSON | null;
  if (!response) return { kind: 'failed' };
  const stored = await findUserCredential(db, input.account.id, response.id);
  if (!stored) return { kind: 'unknown-key' };
  let verified;
  try {
    verified = await verifyAuthenticationResponse({
      response,
      expectedChallenge: taken.challenge,
      expectedOrigin: input.rp.origin,
      expectedRPID: input.rp.id,
      credential: {
        id: stored.credential_id,
        publicKey: new Uint8Array(Buffer.from(stored.public_key, 'base64url')),
        counter: stored.counter,
        transports: stored.transports,
      },
      requireUserVerification: false,
    });
  } catch {
    return { kind: 'failed' };
  }
  if (!verified.verified) return { kind: 'failed' };
  const key = await advanceCredentialCounter(db, {
    id: stored.id,
    checkedCounter: stored.counter,
    newCounter: verified.authenticationInfo.newCounter,
    now: input.now ?? new Date(),
  });
  if (!key) return { kind: 'failed' };
  return { kind: 'ok', key };
}

/**
 * Spends a challenge of this session and person (null when unknown, used or expired). Used by the checks above,
 * and by the caller when the browser reports that the ceremony did not happen.
 */
export async function takeChallenge(
  db: Db,
  input: { account: Account; sessionId: string; challengeId: string; purpose: Purpose; now?: Date },
): Promise<{ challenge: string; keyName: string | null } | null> {
  if (!isUuid(input.challengeId)) return null;
  const row = await deleteChallenge(db, {
    id: input.challengeId.toLowerCase(),
    sessionId: input.sessionId,
    userId: input.account.id,
    purpose: input.purpose,
  });
  if (!row || row.expiresAt <= (input.now ?? new Date())) return null;
  return { challenge: row.challenge, keyName: row.keyName };
}

/**
 * Removes one of the person's keys, but never the last one while security keys are their way of signing in
 * (they choose another way first, which removes the keys).
 */
export async function removeSecurityKey(
  db: Db,
  input: { userId: string; keyId: string; actorId: string; ip: string | null },
): Promise<{ kind: 'removed'; name: string } | { kind: 'last' } | { kind: 'not-found' }> {
  if (!isUuid(input.keyId)) return { kind: 'not-found' };
  return deleteCredentialUnlessLast(db, input);
}

/** Keeps one challenge per session and purpose (a new page replaces the last), and clears everyone's expired ones. */
async function storeChallenge(
  db: Db,
  input: {
    account: Account;
    sessionId: string;
    purpose: Purpose;
    challenge: string;
    keyName: string | null;
    now?: Date;
  },
): Promise<string> {
  const now = input.now ?? new Date();
  return replaceChallenge(db, {
    sessionId: input.sessionId,
    userId: input.account.id,
    purpose: input.purpose,
    challenge: input.challenge,
    keyName: input.keyName,
    now,
    expiresAt: new Date(now.getTime() + CHALLENGE_MINUTES * 60_000),
  });
}

/** The browser's answer as the form posted it (JSON), or null when it is not one. The library checks the rest. */
function parseResponse(text: string): object | null {
  if (!text || text.length > RESPONSE_MAX_LENGTH) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const { id, response } = parsed as { id?: unknown; response?: unknown };
  return typeof id === 'string' && id !== '' && typeof response === 'object' && response !== null ? parsed : null;
}
