/**
 * Who is calling: `Authorization: Bearer <JWT>` (every Notify client) or GC Notify's
 * `Authorization: ApiKey-v1 <full API key>`. Resolves to the service and the API key used, or throws the
 * reference's AuthError.
 */
import { authError } from './errors.ts';
import { canonicalUuid } from '../../../platform/ids.ts';
import { parseApiKeyString } from '../../settings/api-keys.ts';
import { AUTH_MESSAGES, bearerTokenFromHeader, IAT_BOUND_SECONDS, readToken, verifyBearer } from './jwt.ts';
import type { Caller } from '../../sending/send-rules.ts';
import type { ServiceDirectory } from '../../sending/service-directory.ts';

const API_KEY_SCHEME = 'apikey-v1 ';

interface VerifiedToken {
  serviceId: string;
  keyId: string;
  iat: number;
}

/**
 * Tokens this process has already verified, per directory (one per app). Clients sign with a one-second `iat`,
 * so a busy client sends the same token many times a second: the same string carries the same, already checked
 * signature. A hit still checks the clock window, the service and the key (revocation) on every request.
 */
const verifiedTokens = new WeakMap<ServiceDirectory, Map<string, VerifiedToken>>();
const VERIFIED_TOKENS_MAX = 10_000;

async function fromVerifiedToken(directory: ServiceDirectory, token: string): Promise<Caller | null> {
  const hit = verifiedTokens.get(directory)?.get(token);
  if (!hit || Math.abs(Date.now() / 1000 - hit.iat) > IAT_BOUND_SECONDS) return null;
  const service = await directory.service(hit.serviceId);
  if (!service?.active) return null;
  const key = (await directory.apiKeys(hit.serviceId)).find((k) => k.id === hit.keyId);
  // Anything not plainly valid goes through full verification, which gives the exact error.
  if (!key || key.revoked) return null;
  return { service, keyId: key.id, keyType: key.keyType };
}

function rememberVerifiedToken(directory: ServiceDirectory, token: string, entry: VerifiedToken): void {
  let tokens = verifiedTokens.get(directory);
  if (!tokens) verifiedTokens.set(directory, (tokens = new Map()));
  if (tokens.size >= VERIFIED_TOKENS_MAX) tokens.clear();
  tokens.set(token, entry);
}

export async function authenticate(directory: ServiceDirectory, header: string | undefined): Promise<Caller> {
  if (header && header.slice(0, API_KEY_SCHEME.length).toLowerCase() === API_KEY_SCHEME) {
    return authenticateApiKey(directory, header.slice(API_KEY_SCHEME.length).trim());
  }
  const token = bearerTokenFromHeader(header);
  const known = await fromVerifiedToken(directory, token);
  if (known) return known;
  let serviceId = '';
  const keyId = await verifyBearer(token, async (id) => {
    serviceId = id;
    const service = await directory.service(id);
    if (!service) return null;
    return { active: service.active, keys: await directory.apiKeys(id) };
  });
  // Both were just loaded through the directory's cache, so these are memory reads.
  const service = (await directory.service(serviceId))!;
  const key = (await directory.apiKeys(serviceId)).find((k) => k.id === keyId)!;
  rememberVerifiedToken(directory, token, { serviceId, keyId, iat: Number(readToken(token).payload.iat) });
  return { service, keyId, keyType: key.keyType };
}

async function authenticateApiKey(directory: ServiceDirectory, fullKey: string): Promise<Caller> {
  const parsed = parseApiKeyString(fullKey);
  if (!parsed) throw authError(403, 'Invalid token: Enter your full API key');
  const key = await directory.apiKeyBySecret(parsed.secret);
  if (!key) throw authError(403, AUTH_MESSAGES.keyNotFound);
  if (key.serviceId !== parsed.serviceId.toLowerCase()) throw authError(403, 'Invalid token: Enter your full API key');
  if (key.revoked) throw authError(403, AUTH_MESSAGES.revoked);
  const service = await directory.service(key.serviceId);
  if (!service) throw authError(403, AUTH_MESSAGES.serviceNotFound);
  if (!service.active) throw authError(403, AUTH_MESSAGES.archived);
  return { service, keyId: key.id, keyType: key.keyType };
}

/**
 * The service an Authorization header names (a bearer token's `iss`, or the id inside an ApiKey-v1 key), for a
 * refused request worth showing to that service. Says nothing about whether the header is genuine.
 */
export function serviceNamedBy(header: string | undefined): string | null {
  try {
    if (header && /^apikey-v1 /i.test(header))
      return parseApiKeyString(header.slice(10))?.serviceId.toLowerCase() ?? null;
    return canonicalUuid(readToken(bearerTokenFromHeader(header)).payload.iss) ?? null;
  } catch {
    return null;
  }
}
