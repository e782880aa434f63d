/**
 * What Envoi's logs may say about a request or an error. URLs carry one-time tokens (`/reset-password/…`,
 * `/invitation/…`), email addresses (`/v2/suppressions/email/…`) and searches (`/activity?search=…`), and error
 * messages can quote a recipient or a database row: none of it belongs in logs that many people read and keep.
 * So a request is logged under its route, with only ids and small numbers filled in, and its query's values
 * hidden; an error keeps its type, code, message and stack, with addresses and numbers in them hidden, and nothing
 * else (a database error's `detail` quotes the row).
 */
import type { LoggerOptions } from 'pino';
import { isUuid } from './ids.ts';

const HIDDEN = '[redacted]';
/**
 * Parameters shown under a route besides ids: small numbers (versions; never six digits, a sign-in code's length)
 * and short lower-case words (`email`, `sms`).
 */
const SHOWN_PARAM = /^(?:\d{1,5}|[a-z]{1,12})$/;

/** The options of every Envoi logger: its level, and the serializers below. */
export function loggerOptions(level: string): LoggerOptions {
  return { level, serializers: { req: requestSummary, err: errorSummary } };
}

interface LoggedRequest {
  method?: string;
  url?: string;
  ip?: string;
  host?: string;
  params?: unknown;
  routeOptions?: { url?: string };
  socket?: { remoteAddress?: string; remotePort?: number };
}

/** A request (Fastify's, or Node's own) as logged: method, redacted URL, route, and the peer. */
export function requestSummary(req: LoggedRequest) {
  const route = req.routeOptions?.url;
  return {
    method: req.method,
    url: redactUrl(req.url ?? '', route, req.params as Record<string, unknown> | undefined),
    ...(route ? { route } : {}),
    host: req.host,
    remoteAddress: req.ip ?? req.socket?.remoteAddress,
    remotePort: req.socket?.remotePort,
  };
}

/**
 * The URL with what may identify a person or open an account hidden. Under a known route, each parameter is shown
 * only when it is an id, a small number or a short word (`:token` stays `:token`); elsewhere, each path segment that looks like
 * an address, a phone number or a token is hidden. Query values are always hidden, their names kept.
 */
export function redactUrl(url: string, route?: string, params?: Record<string, unknown>): string {
  const at = url.indexOf('?');
  const path = at === -1 ? url : url.slice(0, at);
  const query = at === -1 ? '' : url.slice(at + 1);
  const shownPath = route && params ? fillRoute(route, params) : path.split('/').map(redactSegment).join('/');
  return query ? `${shownPath}?${redactQuery(query)}` : shownPath;
}

function fillRoute(route: string, params: Record<string, unknown>): string {
  return route
    .split('/')
    .map((segment) => {
      if (segment === '*')
        return String(params['*'] ?? '')
          .split('/')
          .map(redactSegment)
          .join('/');
      if (!segment.startsWith(':')) return segment;
      const value = params[segment.slice(1)];
      return typeof value === 'string' && (isUuid(value) || SHOWN_PARAM.test(value)) ? value : segment;
    })
    .join('/');
}

function redactQuery(query: string): string {
  return query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq === -1 || eq === pair.length - 1 ? pair : `${pair.slice(0, eq)}=${HIDDEN}`;
    })
    .join('&');
}

function redactSegment(raw: string): string {
  let segment = raw;
  try {
    segment = decodeURIComponent(raw);
  } catch {
    // Not valid percent-encoding: judged as it came.
  }
  if (segment === '' || isUuid(segment)) return raw;
  const digits = segment.replace(/\D/g, '').length;
  const email = segment.includes('@');
  const phone = digits >= 7 && /^[+(]?[\d\s().-]+$/.test(segment);
  // Random tokens are long and mix in digits or capitals; the words of Envoi's paths are lower case.
  const token = segment.length >= 16 && /[\dA-Z]/.test(segment);
  return email || phone || token ? HIDDEN : raw;
}

const EMAIL_IN_TEXT = /[^\s<>()[\]"',;:]+@[^\s<>()[\]"',;:]+/g;
const NUMBER_IN_TEXT = /(?<![\w.:/-])\+?\(?\d[\d ().-]{5,20}\d(?![\w.:/-])/g;

/** Free text (an error's message or stack) with email addresses and phone-like numbers hidden. */
export function redactText(text: string): string {
  return text.replace(EMAIL_IN_TEXT, HIDDEN).replace(NUMBER_IN_TEXT, (match) => {
    const digits = match.replace(/\D/g, '').length;
    return digits >= 7 && digits <= 15 && !/^\d{4}-\d{2}-\d{2}/.test(match) ? HIDDEN : match;
  });
}

interface LoggedError {
  name?: string;
  message?: string;
  stack?: string;
  code?: unknown;
  statusCode?: unknown;
  cause?: unknown;
}

/** An error as logged: never its other properties, which may hold a request body or a database row. */
export function errorSummary(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error) && (typeof err !== 'object' || err === null)) return redactText(String(err));
  const e = err as LoggedError;
  return {
    type: (err as object).constructor?.name ?? e.name,
    message: redactText(String(e.message ?? '')),
    stack: e.stack ? redactText(e.stack) : undefined,
    ...(typeof e.code === 'string' || typeof e.code === 'number' ? { code: e.code } : {}),
    ...(typeof e.statusCode === 'number' ? { statusCode: e.statusCode } : {}),
    ...(e.cause !== undefined && depth < 3 ? { cause: errorSummary(e.cause, depth + 1) } : {}),
  };
}
