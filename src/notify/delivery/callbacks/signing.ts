/**
 * The headers of a callback request: Notify's bearer token, and a Standard Webhooks signature
 * (https://www.standardwebhooks.com/) so that a receiver can check the request came from Envoi and was not
 * replayed: HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the service's `whsec_` secret.
 */
import { createHmac } from 'node:crypto';
import { webhookSigningKey } from '../../settings/callback-settings.ts';

export interface SignedRequest {
  /** Stable across retries of one callback, so receivers can drop duplicates. */
  id: string;
  body: string;
  bearerToken: string;
  webhookSecret: string;
  /** When the attempt is made; defaults to now. */
  at?: Date;
}

/** `v1,<base64 signature>` for one message. */
export function webhookSignature(secret: string, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', webhookSigningKey(secret))
    .update(`${id}.${timestampSeconds}.${body}`, 'utf8')
    .digest('base64');
  return `v1,${mac}`;
}

export function callbackHeaders(request: SignedRequest): Record<string, string> {
  const timestamp = Math.floor((request.at ?? new Date()).getTime() / 1000);
  return {
    'content-type': 'application/json',
    authorization: `Bearer ${request.bearerToken}`,
    'user-agent': 'Envoi callbacks',
    'webhook-id': request.id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': webhookSignature(request.webhookSecret, request.id, timestamp, request.body),
  };
}
