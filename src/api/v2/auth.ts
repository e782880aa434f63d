/**
 * Who is calling: `Authorization: Bearer <JWT>` (every Notify client) or GC Notify's
 * `Authorization: ApiKey-v1 <full API key>`. Resolves to the service and the API key used, or throws the
 * reference's AuthError.
 */
import { authError } from './errors.ts';
import { AUTH_MESSAGES, bearerTokenFromHeader, parseApiKeyString, verifyBearer } from './jwt.ts';
import type { Caller } from '../../domain/notifications.ts';
import type { ServiceDirectory } from '../../domain/service-directory.ts';

const API_KEY_SCHEME = 'apikey-v1 ';

export async function authenticate(directory: ServiceDirectory, header: string | undefined): Promise<Caller> {
  if (header && header.slice(0, API_KEY_SCHEME.length).toLowerCase() === API_KEY_SCHEME) {
    return authenticateApiKey(directory, header.slice(API_KEY_SCHEME.length).trim());
  }
  const token = bearerTokenFromHeader(header);
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
