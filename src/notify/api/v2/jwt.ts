/**
 * Notify API keys and their bearer tokens: HS256 JWTs `{iss: service id, iat: seconds}` signed with the key's
 * 36-character secret. Verified here with node's crypto (no JWT library) because it runs on every API request.
 * The checks and their order reproduce GOV.UK Notify's, so clients see the same AuthError messages.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalUuid } from '../../../platform/ids.ts';
import { authError } from './errors.ts';

export const AUTH_MESSAGES = {
  noToken: 'Unauthorized: authentication token must be provided',
  notBearer: 'Unauthorized: authentication bearer scheme must be used',
  undecodable:
    'Invalid token: make sure your API token matches the example at https://docs.notifications.service.gov.uk/rest-api.html#authorisation-header',
  noIssuer: 'Invalid token: iss field not provided',
  issuerNotUuid: 'Invalid token: service id is not the right data type',
  serviceNotFound: 'Invalid token: service not found',
  noKeys: 'Invalid token: service has no API keys',
  archived: 'Invalid token: service is archived',
  clock: 'Error: Your system clock must be accurate to within 30 seconds',
  algorithm: 'Invalid token: algorithm used is not HS256',
  keyNotFound: 'Invalid token: API key not found',
  revoked: 'Invalid token: API key revoked',
} as const;

/** Clock skew allowed between the client and Envoi, both ways. */
export const IAT_BOUND_SECONDS = 30;

export interface ParsedToken {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** `base64url(header).base64url(payload)`: the bytes the signature covers. */
  signingInput: string;
  signature: Buffer;
}

export interface ServiceKeys {
  active: boolean;
  keys: { id: string; secret: string; revoked: boolean }[];
}

const BASE64URL_SEGMENT = /^[A-Za-z0-9_-]*={0,2}$/;

function decodeJsonObject(segment: string): Record<string, unknown> | undefined {
  if (segment === '' || !BASE64URL_SEGMENT.test(segment)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function undecodable() {
  return authError(403, AUTH_MESSAGES.undecodable);
}

/** Splits and decodes a compact JWS without verifying it. Throws the 403 "make sure your API token…" error. */
export function readToken(token: string): ParsedToken {
  const parts = String(token).trim().split('.');
  if (parts.length !== 3) throw undecodable();
  const [headerPart, payloadPart, signaturePart] = parts;
  const header = decodeJsonObject(headerPart);
  const payload = decodeJsonObject(payloadPart);
  if (!header || !payload || !BASE64URL_SEGMENT.test(signaturePart)) throw undecodable();
  return {
    header,
    payload,
    signingInput: `${headerPart}.${payloadPart}`,
    signature: Buffer.from(signaturePart, 'base64url'),
  };
}

function hs256(signingInput: string, secret: string): Buffer {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(signingInput).digest();
}

/** Whether the token was signed with this secret (HMAC-SHA256 over the secret string's UTF-8 bytes). */
export function signatureMatches(parsed: ParsedToken, secret: string): boolean {
  const expected = hs256(parsed.signingInput, secret);
  return parsed.signature.length === expected.length && timingSafeEqual(parsed.signature, expected);
}

/**
 * The integer-seconds reading of a numeric claim, as PyJWT's `int(claim)` does (numbers and numeric strings),
 * or undefined when it has none.
 */
function claimSeconds(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : undefined;
  if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) return Number.parseInt(value, 10);
  return undefined;
}

/** Throws the 403 clock error unless `iat` is present, an integer, and within ±30 s of now. */
export function checkIssuedAt(payload: Record<string, unknown>, nowSeconds: number): void {
  const iat = claimSeconds(payload.iat);
  if (iat === undefined || Math.abs(nowSeconds - iat) > IAT_BOUND_SECONDS) {
    throw authError(403, AUTH_MESSAGES.clock);
  }
}

/** A token as Notify's client libraries make it. For tests, the bench and the CLI. */
export function signToken(serviceId: string, secret: string, iatSeconds = Math.floor(Date.now() / 1000)): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signingInput = `${encode({ typ: 'JWT', alg: 'HS256' })}.${encode({ iss: serviceId, iat: iatSeconds })}`;
  return `${signingInput}.${hs256(signingInput, secret).toString('base64url')}`;
}

/** The token in an `Authorization` header. Like Notify, the scheme is `Bearer` in any letter case. */
export function bearerTokenFromHeader(header: string | undefined | null): string {
  if (!header) throw authError(401, AUTH_MESSAGES.noToken);
  if (header.slice(0, 7).toLowerCase() !== 'bearer ') throw authError(401, AUTH_MESSAGES.notBearer);
  return header.slice(7).trim();
}

function pythonTruthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (value !== null && typeof value === 'object') return Object.keys(value).length > 0;
  return Boolean(value);
}

/** Claims PyJWT checks after the signature; each failure ends verification with the message shown. */
function checkRegisteredClaims(payload: Record<string, unknown>, nowSeconds: number): 'skip-key' | undefined {
  checkIssuedAt(payload, nowSeconds);
  if (Object.hasOwn(payload, 'nbf')) {
    const nbf = claimSeconds(payload.nbf);
    if (nbf === undefined) return 'skip-key';
    if (nbf > nowSeconds + IAT_BOUND_SECONDS) throw authError(403, AUTH_MESSAGES.clock);
  }
  if (Object.hasOwn(payload, 'exp')) {
    const exp = claimSeconds(payload.exp);
    if (exp === undefined) return 'skip-key';
    if (exp <= nowSeconds - IAT_BOUND_SECONDS) throw undecodable();
  }
  // Envoi's tokens name no audience, so a token that does is not meant for it (PyJWT ignores an empty one).
  if (pythonTruthy(payload.aud)) throw undecodable();
  return undefined;
}

/**
 * Authenticates a v2 bearer token and returns the id of the API key that signed it. `loadKeys` gets the
 * canonical service id and returns the service's keys (revoked ones included), or null when there is no service.
 *
 * Order, as Notify: decode → iss present → iss is a UUID → service exists → has keys → is active → for each key:
 * algorithm is HS256 → signature → iat within ±30 s → key not revoked. A key whose signature fails is skipped.
 */
export async function verifyBearer(
  token: string,
  loadKeys: (serviceId: string) => Promise<ServiceKeys | null>,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): Promise<string> {
  const parsed = readToken(token);
  if (!Object.hasOwn(parsed.payload, 'iss')) throw authError(403, AUTH_MESSAGES.noIssuer);
  const serviceId = canonicalUuid(parsed.payload.iss);
  if (serviceId === undefined) throw authError(403, AUTH_MESSAGES.issuerNotUuid);

  const service = await loadKeys(serviceId);
  if (!service) throw authError(403, AUTH_MESSAGES.serviceNotFound);
  if (service.keys.length === 0) throw authError(403, AUTH_MESSAGES.noKeys);
  if (!service.active) throw authError(403, AUTH_MESSAGES.archived);

  // Checked before any signature so that `alg: none` or HS512 tokens get a message naming the real problem.
  if (parsed.header.alg !== 'HS256') throw authError(403, AUTH_MESSAGES.algorithm);

  for (const key of service.keys) {
    if (!signatureMatches(parsed, key.secret)) continue;
    if (checkRegisteredClaims(parsed.payload, nowSeconds) === 'skip-key') continue;
    if (key.revoked) throw authError(403, AUTH_MESSAGES.revoked);
    return key.id;
  }
  throw authError(403, AUTH_MESSAGES.keyNotFound);
}
