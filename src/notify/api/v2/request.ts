/**
 * What the v2 API's route files share: the options and context every route gets, and reading a request as Notify
 * reads it (the caller, a JSON body whatever its Content-Type, repeated query keys, ISO 8601 dates).
 */
import type { FastifyRequest } from 'fastify';
import type { Db } from '../../../platform/database/connection.ts';
import type { Jobs } from '../../jobs/jobs.ts';
import type { RateLimiter } from '../../sending/limits.ts';
import type { Caller, SendContext } from '../../sending/send-rules.ts';
import type { ServiceDirectory } from '../../sending/service-directory.ts';
import { checkJsonShape } from './bounds.ts';
import { badRequest } from './errors.ts';
import type { formatDate } from './presenters.ts';

export interface V2Options {
  db: Db;
  directory: ServiceDirectory;
  rateLimiter: RateLimiter;
  send: SendContext;
  jobs: Jobs;
  /** Origin of the `uri`s in responses: configuration only, never the request's Host (see config.ts). */
  publicUrl: () => string;
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
  checkJsonShape(raw);
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

/** The absolute root for links in responses, where Notify uses Flask's request.url_root. */
export function urlRoot(ctx: Pick<V2Options, 'publicUrl'>): string {
  return `${ctx.publicUrl()}/`;
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
