/**
 * A service's callbacks: for each type (delivery statuses, received texts, complaints) a URL and the bearer token
 * Envoi sends with it, and one Standard Webhooks secret per service that signs every request. Tokens and the
 * secret are sealed at rest like API keys.
 */
import { randomBytes } from 'node:crypto';
import type { Db } from '../../platform/database/connection.ts';
import type { CallbackType } from '../vocabulary.ts';
import type { SecretBox } from '../../platform/secret-box.ts';
import {
  deleteCallback,
  findCallback,
  findWebhookSecretSealed,
  insertCallback,
  listServiceCallbacks,
  storeWebhookSecretIfUnset,
  updateCallback,
} from '../repositories/callbacks.ts';

export const CALLBACK_TYPES: readonly CallbackType[] = ['delivery_status', 'inbound_sms', 'complaint'];

/** Notify's minimum (service_callback_api_schema.py). */
export const MIN_BEARER_TOKEN_LENGTH = 10;

const WEBHOOK_SECRET_PREFIX = 'whsec_';
const WEBHOOK_SECRET_BYTES = 32;

export class CallbackSettingsError extends Error {
  override name = 'CallbackSettingsError';
}

export interface CallbackInput {
  url: string;
  bearerToken: string;
}

export interface CallbackView {
  type: CallbackType;
  url: string;
  disabledAt: Date | null;
  disabledReason: string | null;
}

/**
 * Whether requests to this URL may skip the https rule and the address checks: an operator's own receivers,
 * named by host (`receiver.internal`) or host and port (`localhost:8080`) in CALLBACK_ALLOWED_HOSTS.
 */
export function isAllowedHost(url: URL, allowedHosts: readonly string[]): boolean {
  const host = url.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  const withPort = url.port ? `${host}:${url.port}` : null;
  return allowedHosts.some((h) => h === host || h === withPort || h === url.host.toLowerCase());
}

/**
 * What is wrong with a callback's URL and token, in words for the person who set them; empty when nothing is.
 * `allowedHosts` null: the operator's list is not known here, so http:// is left for setCallback to judge.
 */
export function callbackProblems(
  input: { url: unknown; bearerToken: unknown },
  allowedHosts: readonly string[] | null,
): string[] {
  const problems: string[] = [];
  let url: URL | null = null;
  if (typeof input.url !== 'string' || input.url.trim() === '') {
    problems.push('url: enter the URL of your callback receiver');
  } else {
    try {
      url = new URL(input.url.trim());
    } catch {
      problems.push(`url: "${input.url}" is not a valid URL`);
    }
  }
  if (url) {
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      problems.push(`url: must start with https:// (got ${url.protocol})`);
    } else if (url.protocol === 'http:' && allowedHosts && !isAllowedHost(url, allowedHosts)) {
      problems.push(`url: must start with https:// (${url.host} is not in CALLBACK_ALLOWED_HOSTS)`);
    }
    if (url.username || url.password)
      problems.push('url: must not contain a user name or password; use the bearer token');
  }
  if (typeof input.bearerToken !== 'string' || input.bearerToken.length < MIN_BEARER_TOKEN_LENGTH) {
    problems.push(`bearer_token: must be at least ${MIN_BEARER_TOKEN_LENGTH} characters`);
  }
  return problems;
}

/** `whsec_` and the base64 of 32 random bytes, as the Standard Webhooks specification writes a secret. */
export function generateWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + randomBytes(WEBHOOK_SECRET_BYTES).toString('base64');
}

/** The HMAC key of a `whsec_…` secret: the bytes its base64 part encodes. */
export function webhookSigningKey(secret: string): Buffer {
  return Buffer.from(
    secret.startsWith(WEBHOOK_SECRET_PREFIX) ? secret.slice(WEBHOOK_SECRET_PREFIX.length) : secret,
    'base64',
  );
}

/** The service's signing secret, created on first use. Safe when two callers race: the first one stored wins. */
export async function ensureWebhookSecret(db: Db, secrets: SecretBox, serviceId: string): Promise<string> {
  const current = await findWebhookSecretSealed(db, serviceId);
  if (current === undefined) throw new CallbackSettingsError(`service ${serviceId} not found`);
  if (current) return secrets.open(current);
  const secret = generateWebhookSecret();
  if (await storeWebhookSecretIfUnset(db, serviceId, secrets.seal(secret))) return secret;
  return ensureWebhookSecret(db, secrets, serviceId);
}

/**
 * Sets (or replaces) the service's callback of this type and returns the service's signing secret. Setting a
 * callback re-enables it if a receiver's 410 Gone had disabled it. Setting the same URL and token again writes
 * nothing.
 */
export async function setCallback(
  db: Db,
  secrets: SecretBox,
  serviceId: string,
  type: CallbackType,
  input: CallbackInput,
  opts: { allowedHosts: readonly string[] },
): Promise<{ webhookSecret: string; changed: boolean }> {
  if (!CALLBACK_TYPES.includes(type)) throw new CallbackSettingsError(`unknown callback type "${type}"`);
  const problems = callbackProblems(input, opts.allowedHosts);
  if (problems.length > 0) throw new CallbackSettingsError(`The ${type} callback is not valid: ${problems.join('; ')}`);
  const url = input.url.trim();
  const webhookSecret = await ensureWebhookSecret(db, secrets, serviceId);

  const existing = await findCallback(db, serviceId, type);
  if (
    existing &&
    existing.url === url &&
    !existing.disabled_at &&
    sameToken(secrets, existing.bearer_token_sealed, input.bearerToken)
  ) {
    return { webhookSecret, changed: false };
  }
  const values = {
    url,
    bearer_token_sealed: secrets.seal(input.bearerToken),
    disabled_at: null,
    disabled_reason: null,
  };
  if (existing) await updateCallback(db, existing.id, values);
  else await insertCallback(db, serviceId, type, values);
  return { webhookSecret, changed: true };
}

function sameToken(secrets: SecretBox, sealed: string, token: string): boolean {
  try {
    return secrets.open(sealed) === token;
  } catch {
    // Sealed under another key: replacing it is the fix.
    return false;
  }
}

/** Removes the service's callback of this type; rows already queued for it are dropped when their turn comes. */
export async function removeCallback(db: Db, serviceId: string, type: CallbackType): Promise<boolean> {
  return deleteCallback(db, serviceId, type);
}

/** The service's callbacks as a settings page shows them: never the token. */
export async function listCallbacks(db: Db, serviceId: string): Promise<CallbackView[]> {
  const rows = await listServiceCallbacks(db, serviceId);
  return rows.map((r) => ({
    type: r.callback_type,
    url: r.url,
    disabledAt: r.disabled_at,
    disabledReason: r.disabled_reason,
  }));
}
