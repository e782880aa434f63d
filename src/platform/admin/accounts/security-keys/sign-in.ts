/** The second step of signing in with a security key: the browser's ceremony, then the session, or the lockout. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { safeNext, setSessionCookie, SESSION_COOKIE } from '../../../ui/context.ts';
import type { AdminDeps } from '../../../ui/admin-deps.ts';
import { SECOND_STEP_PATH } from '../scope.ts';
import { signInPage } from '../views.ts';
import type { Account } from '../../../accounts/accounts.ts';
import { beginSignIn, finishSignIn, takeChallenge } from '../../../accounts/security-keys.ts';
import { browserOutcome, type CeremonyError } from './forms.ts';
import { type Form, securityKeyScope } from './scope.ts';
import { signInKeyPage } from './views.ts';

export async function signInKeyRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const { accounts, db, meta, relyingParty, tooMany } = securityKeyScope(deps);

  /** The pre-session of someone whose second step is a security key (others go to their own second step). */
  function pending(request: FastifyRequest, reply: FastifyReply): { id: string; account: Account } | FastifyReply {
    const session = request.ui.session?.stage === 'second-factor' ? request.ui.session : null;
    if (!session) return reply.redirect('/sign-in?notice=session-expired', 303);
    if (session.account.authType !== 'security_key')
      return reply.redirect(SECOND_STEP_PATH[session.account.authType], 303);
    return session;
  }

  async function signInCeremonyPage(
    request: FastifyRequest,
    reply: FastifyReply,
    session: { id: string; account: Account },
    next: string | undefined,
    error?: CeremonyError,
  ) {
    const ceremony = await beginSignIn(db, {
      account: session.account,
      sessionId: session.id,
      rp: relyingParty(),
    });
    return signInKeyPage(reply, request.ui, ceremony, next, error, error ? 400 : 200);
  }

  app.get<{ Querystring: { next?: string } }>('/sign-in/security-key', async (request, reply) => {
    const session = pending(request, reply);
    if (!('account' in session)) return session;
    return signInCeremonyPage(request, reply, session, request.query.next);
  });

  app.post<{ Body: Form }>('/sign-in/security-key', async (request, reply) => {
    const session = pending(request, reply);
    if (!('account' in session)) return session;
    const { ui } = request;
    const { account } = session;
    if (!deps.attempts.allow(`ip:${request.ip}`)) return tooMany(request, reply);
    const next = request.body.next;
    const challengeId = request.body.challenge ?? '';

    if (browserOutcome(request.body.outcome)) {
      // Nothing was signed, so nothing counts towards the lockout.
      const taken = await takeChallenge(db, { account, sessionId: session.id, challengeId, purpose: 'sign-in' });
      return signInCeremonyPage(
        request,
        reply,
        session,
        next,
        !taken ? 'expired' : request.body.outcome === 'cancelled' ? 'sign-in-cancelled' : 'failed',
      );
    }
    const result = await finishSignIn(db, {
      account,
      sessionId: session.id,
      challengeId,
      response: request.body.response ?? '',
      rp: relyingParty(),
    });
    if (result.kind === 'ok') {
      const token = await accounts.completeSignIn(session.id, account, meta(request), 'security_key', {
        securityKeyName: result.key.name,
      });
      setSessionCookie(reply, ui, token);
      return reply.redirect(safeNext(next), 303);
    }
    if (result.kind === 'expired') return signInCeremonyPage(request, reply, session, next, 'expired');
    const lockedUntil = await accounts.recordFailure(account.id, request.ip, 'second-factor-failed');
    if (lockedUntil) {
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
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
    return signInCeremonyPage(request, reply, session, next, result.kind);
  });
}
