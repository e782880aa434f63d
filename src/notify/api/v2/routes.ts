/**
 * The public v2 API as one Fastify plugin: authentication on every route it owns (never on unknown URLs, which
 * the app answers before auth), the request helpers the route files share, and the format checks whose
 * messages Notify's clients expect.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Db } from '../../../platform/database/connection.ts';
import { authenticate } from './auth.ts';
import { ApiError, badRequest } from './errors.ts';
import { AUTH_MESSAGES, canonicalUuid } from './jwt.ts';
import { formatDate } from './presenters.ts';
import { createValidatorFactory, type Check } from './validation.ts';
import { notificationRoutes } from './notifications.ts';
import { templateRoutes } from './templates.ts';
import { receivedTextRoutes } from './received-texts.ts';
import { bulkRoutes } from './bulk.ts';
import { suppressionRoutes } from './suppressions.ts';
import type { Jobs } from '../../jobs/jobs.ts';
import { MAX_SCHEDULE_HOURS, type Caller, type SendContext } from '../../sending/send-rules.ts';
import type { ServiceDirectory } from '../../sending/service-directory.ts';
import type { RateLimiter } from '../../sending/limits.ts';
import {
  InvalidRecipientError,
  validateEmailAddress,
  validatePhoneNumber,
  type CountryCode,
} from '../../../platform/recipients.ts';
import { ApiRequestLog, serviceNamedBy } from '../../settings/api-keys.ts';

export interface V2Options {
  db: Db;
  directory: ServiceDirectory;
  rateLimiter: RateLimiter;
  send: SendContext;
  jobs: Jobs;
  publicUrl: string | null;
  smsRate: number;
  phoneRegion: string;
}

export interface V2Context extends V2Options {
  compile: <T>(schema: object) => (data: unknown) => T;
  uuid: (value: string) => string;
  parseDate: (value: string) => Date;
  formatDate: typeof formatDate;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
}

export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new Error('v2 route reached without authentication');
  return request.caller;
}

/** The body as JSON whatever its Content-Type, as Notify reads it (`get_json(force=True)`). */
export function parseJsonBody(request: FastifyRequest): unknown {
  const raw = request.body;
  if (typeof raw !== 'string' || raw.trim() === '') throw badRequest('Invalid JSON supplied in POST data');
  try {
    return JSON.parse(raw);
  } catch {
    throw badRequest('Invalid JSON supplied in POST data');
  }
}

/** Query parameters as Notify reads them: repeated keys become arrays for `arrayKeys`, others take the first value. */
export function queryArrays(query: unknown, arrayKeys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    const values = ([] as unknown[]).concat(value);
    out[key] = arrayKeys.includes(key) ? values : values[0];
  }
  return out;
}

/** The absolute root for links in responses, like Flask's request.url_root. */
export function urlRoot(request: FastifyRequest, publicUrl: string | null): string {
  return publicUrl ? `${publicUrl}/` : `${request.protocol}://${request.host}/`;
}

const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** ISO 8601 as Python's iso8601 reads it; a time without a zone is UTC. Returns null when it is not one. */
export function parseIsoDate(value: string): Date | null {
  const m = ISO_8601.exec(value.trim());
  if (!m) return null;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone = 'Z'] = m;
  const ms = frac ? Math.round(Number(`0.${frac}`) * 1000) : 0;
  const offset =
    zone.toUpperCase() === 'Z'
      ? '+00:00'
      : zone.length === 3
        ? `${zone}:00`
        : zone.replace(/^([+-]\d{2})(\d{2})$/, '$1:$2');
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}.${String(ms).padStart(3, '0')}${offset}`);
  if (Number.isNaN(date.getTime())) return null;
  // Reject dates JS silently rolls over (2026-02-30).
  if (
    Number(mo) > 12 ||
    Number(d) > new Date(Date.UTC(Number(y), Number(mo), 0)).getUTCDate() ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 59
  )
    return null;
  return date;
}

/** A recipient validator as a format check: its InvalidRecipientError message becomes the field's message. */
function recipientCheck(value: unknown, validate: (raw: string) => unknown): string | null {
  if (typeof value !== 'string') return null;
  try {
    validate(value);
    return null;
  } catch (err) {
    if (err instanceof InvalidRecipientError) return err.message;
    throw err;
  }
}

function checks(phoneRegion: string): Record<string, Check> {
  return {
    uuid: (v) => (typeof v === 'string' && canonicalUuid(v) ? null : 'is not a valid UUID'),
    nullable_uuid: (v) => (v === null || (typeof v === 'string' && canonicalUuid(v)) ? null : 'is not a valid UUID'),
    email_address: (v) => recipientCheck(v, validateEmailAddress),
    phone_number: (v) =>
      recipientCheck(v, (raw) => validatePhoneNumber(raw, { defaultRegion: phoneRegion as CountryCode })),
    uri: (v) => {
      if (typeof v !== 'string') return null;
      try {
        return new URL(v).protocol === 'https:' ? null : 'is not a valid https url';
      } catch {
        return 'is not a valid https url';
      }
    },
    scheduled_for: (v) => {
      if (v === null || typeof v !== 'string') return null;
      const date = parseIsoDate(v);
      if (!date) {
        return 'datetime format is invalid. It must be a valid ISO8601 date time format, https://en.wikipedia.org/wiki/ISO_8601';
      }
      if (date.getTime() < Date.now()) return 'datetime cannot be in the past';
      if (date.getTime() > Date.now() + MAX_SCHEDULE_HOURS * 3600_000) {
        return `datetime can only be up to ${MAX_SCHEDULE_HOURS} hours in the future`;
      }
      return null;
    },
  };
}

export async function v2Routes(app: FastifyInstance, opts: V2Options) {
  const compile = createValidatorFactory({ checks: checks(opts.phoneRegion) });
  const ctx: V2Context = {
    ...opts,
    compile,
    uuid: (value) => canonicalUuid(value)!,
    parseDate: (value) => parseIsoDate(value)!,
    formatDate,
  };

  // Notify reads the body itself, whatever the Content-Type says.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  // The service's recent requests for its API page: one push into memory per answered request, written each second.
  const requestLog = new ApiRequestLog(opts.db, {
    onError: (err) => app.log.warn({ err }, 'could not record recent API requests'),
  });

  app.addHook('onRequest', async (request) => {
    try {
      request.caller = await authenticate(opts.directory, request.headers.authorization);
    } catch (err) {
      // A revoked key's signature was checked, so the service is known: its team sees the refusal too.
      const refused =
        err instanceof ApiError && err.message === AUTH_MESSAGES.revoked
          ? serviceNamedBy(request.headers.authorization)
          : null;
      if (refused)
        requestLog.record(refused, null, request.method, request.url, err instanceof ApiError ? err.statusCode : 403);
      throw err;
    }
  });

  app.addHook('onResponse', (request, reply, done) => {
    const caller = request.caller;
    if (caller) requestLog.record(caller.service.id, caller.keyId, request.method, request.url, reply.statusCode);
    done();
  });
  app.addHook('onClose', () => requestLog.close());

  notificationRoutes(app, ctx);
  templateRoutes(app, ctx);
  receivedTextRoutes(app, ctx);
  bulkRoutes(app, ctx);
  suppressionRoutes(app, ctx);
}
