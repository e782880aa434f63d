/**
 * Sends that are safe to retry: the Idempotency-Key header (the IETF HTTP APIs working group's draft). The same key
 * with the same request within 24 hours answers the first response again and creates nothing; with another request
 * it is a 422. The key is stored by the statement that stores the notification (repositories/idempotency-keys.ts),
 * so two requests racing with one key make one notification: the second's insert fails, and it answers as a retry.
 */
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Db } from '../../../platform/database/connection.ts';
import { findIdempotencyKey, forgetExpiredIdempotencyKey } from '../../repositories/idempotency-keys.ts';
import { ApiError, badRequest } from './errors.ts';

const MAX_KEY_LENGTH = 255;

/** The request's key, or null without the header; a key that cannot be one is refused. */
export function idempotencyKeyOf(request: FastifyRequest): string | null {
  const header = request.headers['idempotency-key'];
  if (header === undefined) return null;
  // The draft writes the key as a quoted string; clients of other APIs send it bare. Both are the same key.
  const raw = Array.isArray(header) ? header.join(',') : header;
  const key = /^".*"$/.test(raw) ? raw.slice(1, -1) : raw;
  if (key === '' || key.length > MAX_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(key)) {
    throw badRequest(`Idempotency-Key must be 1 to ${MAX_KEY_LENGTH} visible ASCII characters`);
  }
  return key;
}

/** What makes two requests the same: the route and the body's value, whatever the order of its keys. */
export function requestHash(route: string, body: unknown): string {
  return createHash('sha256').update(route).update('\n').update(stableJson(body)).digest('base64url');
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The first answer to this key, or null when the key is new (or its 24 hours are over); another request: 422. */
export async function earlierAnswer(db: Db, serviceId: string, key: string, hash: string): Promise<unknown | null> {
  const earlier = await findIdempotencyKey(db, serviceId, key);
  if (!earlier) return null;
  if (earlier.expired) {
    await forgetExpiredIdempotencyKey(db, serviceId, key);
    return null;
  }
  if (earlier.requestHash !== hash) {
    throw new ApiError(
      422,
      'IdempotencyKeyReusedError',
      'Idempotency-Key has already been used for a different request in the last 24 hours',
    );
  }
  return earlier.response;
}

/** Whether a send failed because a request with the same key committed first. */
export function isKeyTaken(err: unknown): boolean {
  const e = err as { code?: string; constraint?: string; message?: string };
  return e?.code === '23505' && (e.constraint === 'idempotency_keys_pkey' || /idempotency_keys/.test(e.message ?? ''));
}
