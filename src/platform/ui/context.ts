/**
 * What every UI request carries (`request.ui`): its language and words, the session and signed-in account, and
 * the CSRF token its forms must send back.
 */
import { timingSafeEqual, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Account, Accounts, Session } from '../accounts/accounts.ts';
import type { SecretBox } from '../secret-box.ts';
import { chooseLocale, translator, type Locale, type Translate, type Translator } from './i18n/index.ts';

export const SESSION_COOKIE = 'envoi_session';
export const LANG_COOKIE = 'lang';
/** Seed of the CSRF token of visitors who are not signed in (the token itself is an HMAC of it). */
const ANON_COOKIE = 'envoi_visitor';
export const CSRF_FIELD = '_csrf';

export interface UiContext extends Translator {
  t: Translate;
  /** Any session, including one waiting for its second step. */
  session: Session | null;
  /** The signed-in account (second step done), else null. */
  account: Account | null;
  csrfToken: string;
  /** Path and query of this request, for the language toggle and the return after signing in. */
  path: string;
  /** Whether cookies must be Secure: the public URL is https. */
  secure: boolean;
  /** Whether services have an outbox page: only while a sink provider keeps messages instead of sending them. */
  showOutbox: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    ui: UiContext;
  }
}

export async function buildUiContext(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: { accounts: Accounts; secrets: SecretBox; publicUrl: string; showOutbox: boolean },
): Promise<UiContext> {
  // From configuration only: a forged X-Forwarded-Proto must not decide how cookies are sent.
  const secure = deps.publicUrl.startsWith('https:');
  const locale = chooseLocale(request.cookies[LANG_COOKIE], request.headers['accept-language']);
  const token = request.cookies[SESSION_COOKIE];
  const session = token ? await deps.accounts.session(token) : null;
  if (token && !session) reply.clearCookie(SESSION_COOKIE, { path: '/' });
  let csrfToken: string;
  if (session) {
    csrfToken = session.csrfToken;
  } else {
    let seed = request.cookies[ANON_COOKIE];
    if (!seed || !/^[\w-]{20,64}$/.test(seed)) {
      seed = randomBytes(24).toString('base64url');
      reply.setCookie(ANON_COOKIE, seed, { path: '/', httpOnly: true, sameSite: 'lax', secure });
    }
    csrfToken = deps.secrets.digest(`csrf:${seed}`);
  }
  const tr = translator(locale);
  return {
    ...tr,
    session,
    account: session?.stage === 'signed-in' ? session.account : null,
    csrfToken,
    path: request.url,
    secure,
    showOutbox: deps.showOutbox,
  };
}

export function csrfMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function setSessionCookie(reply: FastifyReply, ui: UiContext, token: string): void {
  // No Max-Age: the browser forgets it when closed; the server enforces the idle and absolute limits.
  reply.setCookie(SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'lax', secure: ui.secure });
}

export function setLanguageCookie(reply: FastifyReply, ui: Pick<UiContext, 'secure'>, locale: Locale): void {
  reply.setCookie(LANG_COOKIE, locale, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: ui.secure,
    maxAge: 365 * 24 * 3600,
  });
}

/** A same-site path to go back to after signing in; anything else becomes the home page. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])/.test(next) && !/[\r\n]/.test(next) ? next : '/';
}
