/**
 * What the API contract tests share: raw HTTP calls signed like a Notify client, the official Node client, error
 * assertions, bulk notification rows written straight into the database, and polling for a final status.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Insertable } from 'kysely';
import { expect } from 'vitest';
import { signToken } from '../../src/notify/api/v2/jwt.ts';
import type { Db } from '../../src/platform/database/connection.ts';
import type { NotificationsTable } from '../../src/notify/schema.ts';
import { expectSchema } from './response-schemas.ts';

type NotifyClientClass = typeof import('notifications-node-client').NotifyClient;
/** The official, unmodified notifications-node-client. */
export const NotifyClient: NotifyClientClass = createRequire(import.meta.url)('notifications-node-client').NotifyClient;
export type NotifyClientInstance = InstanceType<NotifyClientClass>;

/** The service id and secret inside a full API key string, sliced from the end as every client does. */
export function keyParts(key: string): { serviceId: string; secret: string } {
  return { serviceId: key.slice(-73, -37), secret: key.slice(-36) };
}

/** `Bearer <JWT>` as the clients make it, optionally at another `iat`. */
export function bearer(key: string, iat?: number): string {
  const { serviceId, secret } = keyParts(key);
  return `Bearer ${signToken(serviceId, secret, iat)}`;
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

export interface ApiResponse {
  status: number;
  // Response bodies are checked against schemas and with toEqual; `any` keeps property reads short.
  body: any;
  text: string;
  headers: Headers;
}

export interface CallOptions {
  /** Full API key: signs a fresh bearer token. */
  key?: string;
  /** An exact Authorization header (overrides `key`). */
  authorization?: string;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is. */
  raw?: string;
  contentType?: string;
  /** Further request headers. */
  headers?: Record<string, string>;
}

/** One HTTP request to Envoi; the body is parsed as JSON when it is JSON. */
export async function call(
  baseUrl: string,
  method: string,
  path: string,
  opts: CallOptions = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.authorization !== undefined) headers.authorization = opts.authorization;
  else if (opts.key) headers.authorization = bearer(opts.key);
  let body: string | undefined;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers['content-type'] = opts.contentType ?? 'application/json';
  } else if (opts.raw !== undefined) {
    body = opts.raw;
    if (opts.contentType) headers['content-type'] = opts.contentType;
  }
  const res = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}

/** Asserts a v2 error response: status, shape, and exactly one error with this name and message. */
export function expectError(
  res: { status: number; body: unknown },
  status: number,
  error: string,
  message: string,
): void {
  expectSchema('error', res.body);
  expect({ status: res.status, body: res.body }).toEqual({
    status,
    body: { status_code: status, errors: [{ error, message }] },
  });
}

/** Asserts a 400 with exactly these ValidationError messages, in any order. */
export function expectValidationErrors(res: { status: number; body: unknown }, messages: string[]): void {
  expectSchema('error', res.body);
  expect(res.status).toBe(400);
  const body = res.body as { status_code: number; errors: { error: string; message: string }[] };
  expect(body.status_code).toBe(400);
  expect(body.errors.every((e) => e.error === 'ValidationError')).toBe(true);
  expect([...body.errors.map((e) => e.message)].sort()).toEqual([...messages].sort());
}

/** The HTTP status and body of a request the Node client made that failed (axios rejects on 4xx/5xx). */
export async function clientFailure(promise: Promise<unknown>): Promise<{ status: number; data: unknown }> {
  try {
    await promise;
  } catch (err) {
    const response = (err as { response?: { status: number; data: unknown } }).response;
    if (response) return { status: response.status, data: response.data };
    throw err;
  }
  throw new Error('expected the request to fail');
}

// ---------------------------------------------------------------------------------------------------------------
// Rows written straight into `notifications`, for lists and paging without hundreds of API calls.

export interface RowSpec {
  serviceId: string;
  templateId: string;
  templateVersion?: number;
  type?: 'email' | 'sms';
  keyType?: 'normal' | 'team' | 'test';
  status?: string;
  reference?: string | null;
  to?: string;
  createdAt: Date;
}

export function notificationRow(spec: RowSpec): Insertable<NotificationsTable> {
  const type = spec.type ?? 'email';
  const to = spec.to ?? (type === 'email' ? 'someone@example.com' : '+16135550199');
  const completed = spec.status && !['created', 'sending', 'pending'].includes(spec.status);
  return {
    id: randomUUID(),
    service_id: spec.serviceId,
    template_id: spec.templateId,
    template_version: spec.templateVersion ?? 1,
    api_key_id: null,
    key_type: spec.keyType ?? 'normal',
    notification_type: type,
    to,
    normalised_to: to.toLowerCase(),
    personalisation: '{}',
    client_reference: spec.reference ?? null,
    subject: type === 'email' ? 'Subject' : null,
    body: 'Body',
    reply_to_text: null,
    one_click_unsubscribe_url: null,
    billable_units: type === 'sms' && spec.status && spec.status !== 'created' ? 1 : 0,
    status: spec.status ?? 'created',
    scheduled_for: null,
    next_attempt_at: spec.createdAt,
    created_at: spec.createdAt,
    sent_at: completed ? spec.createdAt : null,
    updated_at: completed ? spec.createdAt : null,
  };
}

/** Inserts rows in chunks (one statement each) and returns their ids in the order given. */
export async function insertNotifications(db: Db, rows: Insertable<NotificationsTable>[]): Promise<string[]> {
  for (let i = 0; i < rows.length; i += 200) {
    await db
      .insertInto('notifications')
      .values(rows.slice(i, i + 200))
      .execute();
  }
  return rows.map((r) => r.id);
}

// ---------------------------------------------------------------------------------------------------------------

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * GETs a notification until its status is no longer `created`/`sending`/`pending`, at most `attempts` times.
 * Returns the last body read; the caller asserts the status.
 */
export async function pollUntilFinal(
  baseUrl: string,
  key: string,
  id: string,
  attempts = 1000,
): Promise<ApiResponse['body']> {
  let body: ApiResponse['body'];
  for (let i = 0; i < attempts; i++) {
    const res = await call(baseUrl, 'GET', `/v2/notifications/${id}`, { key });
    expect(res.status).toBe(200);
    body = res.body;
    if (!['created', 'sending', 'pending'].includes(body.status)) return body;
    await pause(25);
  }
  return body;
}

/** Asserts an absolute link: this origin and path, exactly these query parameters (in any order). */
export function expectLink(actual: unknown, baseUrl: string, path: string, params: Record<string, string>): void {
  expect(typeof actual).toBe('string');
  const link = new URL(actual as string);
  expect(`${link.origin}${link.pathname}`).toBe(`${baseUrl}${path}`);
  expect(Object.fromEntries(link.searchParams)).toEqual(params);
  expect([...link.searchParams.keys()].length).toBe(Object.keys(params).length);
}
