/**
 * What every accounts route shares: request metadata, the too-many-attempts page, sending a sign-in code, and the
 * end of the second step (the session, or a failure counted towards the lockout).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { html } from '../../ui/html.ts';
import { safeNext, setSessionCookie, SESSION_COOKIE } from '../../ui/context.ts';
import { signInPage } from './views.ts';
import { sendPage } from '../../ui/layout.ts';
import type { AdminDeps } from '../../ui/admin-deps.ts';
import type { Account } from '../../accounts/accounts.ts';
import type { AuthType } from '../../accounts/account.ts';

export type Form = Record<string, string | undefined>;

export const NOTICES = [
  'account-created',
  'password-changed',
  'email-confirmed',
  'signed-out',
  'signed-out-everywhere',
  'two-step-changed',
  'session-expired',
] as const;

/** Where the second step of each method happens. */
export const SECOND_STEP_PATH: Record<AuthType, string> = {
  email: '/sign-in/code',
  sms: '/sign-in/code',
  totp: '/sign-in/app',
  security_key: '/sign-in/security-key',
};

export function accountScope(deps: AdminDeps) {
  const { accounts, messages } = deps;
  const meta = (request: FastifyRequest) => ({ ip: request.ip, userAgent: request.headers['user-agent'] ?? null });
  const tooMany = (request: FastifyRequest, reply: FastifyReply) => {
    const { t } = request.ui;
    return sendPage(
      reply,
      request.ui,
      { title: t('tooMany.title'), body: html`<h1>${t('tooMany.title')}</h1><p>${t('tooMany.body')}</p>` },
      429,
    );
  };

  async function sendCode(account: Account): Promise<void> {
    const method = account.authType === 'sms' && account.mobileNumber ? 'sms' : 'email';
    const code = await accounts.issueCode(account.id, method);
    if (method === 'sms') await messages.deliver('sign-in-code-sms', account.language, account.mobileNumber!, { code });
    else await messages.deliver('sign-in-code', account.language, account.email, { name: account.name, code });
  }

  /** The session after the second step: its cookie, then where the person was going. */
  async function finishSignIn(
    request: FastifyRequest,
    reply: FastifyReply,
    preSessionId: string,
    account: Account,
    method: string,
    next: string | undefined,
  ) {
    const token = await accounts.completeSignIn(preSessionId, account, meta(request), method);
    setSessionCookie(reply, request.ui, token);
    return reply.redirect(safeNext(next), 303);
  }

  /** A wrong second step counts towards the lockout: the page again, or the sign-in page saying until when. */
  async function secondStepFailed(
    request: FastifyRequest,
    reply: FastifyReply,
    account: Account,
    again: () => FastifyReply,
  ) {
    const lockedUntil = await accounts.recordFailure(account.id, request.ip, 'second-factor-failed');
    if (!lockedUntil) return again();
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    const { ui } = request;
    return signInPage(
      reply,
      { ...ui, session: null },
      {
        email: account.email,
        errors: [{ field: 'email', message: ui.t('signIn.locked', { time: ui.formatDateTime(lockedUntil) }) }],
      },
      400,
    );
  }
  return { accounts, messages, meta, tooMany, sendCode, finishSignIn, secondStepFailed };
}
