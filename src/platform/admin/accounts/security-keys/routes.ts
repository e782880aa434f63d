/**
 * Security keys (WebAuthn) in the web UI: the list of one's keys, adding one (name and password, then the browser's
 * ceremony), removing one (password again), and the second step of signing in with a key. The ceremony itself
 * needs JavaScript (assets/security-key.js, no inline script): the page holds the options and the words, the script
 * asks the browser and posts its answer, or why there is none, in an ordinary form. Without JavaScript the page
 * says so and names the way out.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html } from '../../../ui/html.ts';
import { sendPage, type FieldError } from '../../../ui/layout.ts';
import { requireUser } from '../../../ui/guards.ts';
import { safeNext, setSessionCookie, SESSION_COOKIE } from '../../../ui/context.ts';
import type { AdminDeps } from '../../../ui/admin-deps.ts';
import { confirmPassword } from '../forms.ts';
import { SECOND_STEP_PATH } from '../scope.ts';
import { signInPage } from '../views.ts';
import type { Account } from '../../../accounts/accounts.ts';
import {
  beginRegistration,
  beginSignIn,
  findSecurityKey,
  finishRegistration,
  finishSignIn,
  KEY_NAME_MAX,
  listSecurityKeys,
  MAX_KEYS,
  removeSecurityKey,
  takeChallenge,
  type RelyingParty,
} from '../../../accounts/security-keys.ts';
import { browserOutcome, type CeremonyError } from './forms.ts';
import { keysPage, newKeyPage, registrationPage, removePage, signInKeyPage } from './views.ts';
type Form = Record<string, string | undefined>;

export async function securityKeyRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const { accounts } = deps;
  const db = deps.services.database.db;
  const meta = (request: FastifyRequest) => ({ ip: request.ip, userAgent: request.headers['user-agent'] ?? null });

  /** The site as the browser sees it: ENVOI_PUBLIC_URL, else the request's own origin. */
  function relyingParty(request: FastifyRequest): RelyingParty {
    let origin: URL;
    try {
      origin = new URL(deps.siteRoot(request));
    } catch {
      throw Object.assign(new Error('the request names no usable host'), { statusCode: 400 });
    }
    return { id: origin.hostname, origin: origin.origin, name: 'Envoi' };
  }

  const tooMany = (request: FastifyRequest, reply: FastifyReply) => {
    const { t } = request.ui;
    return sendPage(
      reply,
      request.ui,
      { title: t('tooMany.title'), body: html`<h1>${t('tooMany.title')}</h1><p>${t('tooMany.body')}</p>` },
      429,
    );
  };

  // ---- your keys ---------------------------------------------------------------------------------------------

  app.get<{ Querystring: { notice?: string } }>(
    '/account/security-keys',
    { preHandler: requireUser },
    async (request, reply) => {
      const { ui } = request;
      const keys = await listSecurityKeys(db, ui.account!.id);
      if (keys.length === 0) return reply.redirect('/account/security-keys/new', 303);
      const shown = ['added', 'removed'].find((n) => n === request.query.notice);
      return keysPage(reply, ui, keys, shown);
    },
  );

  app.get('/account/security-keys/new', { preHandler: requireUser }, async (request, reply) =>
    newKeyPage(reply, request.ui, {}),
  );

  app.post<{ Body: Form }>('/account/security-keys/new', { preHandler: requireUser }, async (request, reply) => {
    const { ui } = request;
    const account = ui.account!;
    if (!deps.attempts.allow(`ip:${request.ip}`)) return tooMany(request, reply);
    const name = (request.body.name ?? '').trim();
    const keys = await listSecurityKeys(db, account.id);
    const errors: FieldError[] = [];
    if (!name) errors.push({ field: 'name', message: ui.t('securityKeys.name.missing') });
    else if ([...name].length > KEY_NAME_MAX)
      errors.push({ field: 'name', message: ui.t('securityKeys.name.tooLong', { max: KEY_NAME_MAX }) });
    else if (keys.some((k) => k.name.toLowerCase() === name.toLowerCase()))
      errors.push({ field: 'name', message: ui.t('securityKeys.name.taken') });
    else if (keys.length >= MAX_KEYS)
      errors.push({ field: 'name', message: ui.t('securityKeys.name.tooMany', { max: MAX_KEYS }) });
    const password = await confirmPassword(accounts, request, reply, request.body.password ?? '');
    if (password && !Array.isArray(password)) return password;
    if (password) errors.push(...password);
    if (errors.length) return newKeyPage(reply, ui, { name, errors }, 400);
    return registrationPage(
      reply,
      ui,
      await beginRegistration(db, { account, sessionId: ui.session!.id, name, rp: relyingParty(request) }),
      name,
    );
  });

  app.post<{ Body: Form }>('/account/security-keys/register', { preHandler: requireUser }, async (request, reply) => {
    const { ui } = request;
    const account = ui.account!;
    const sessionId = ui.session!.id;
    const rp = relyingParty(request);
    const challengeId = request.body.challenge ?? '';
    const expired = () =>
      newKeyPage(
        reply,
        ui,
        { errors: [{ field: 'password', message: ui.t('securityKeys.error.expiredRegister') }] },
        400,
      );
    const again = async (name: string, error: CeremonyError) =>
      registrationPage(reply, ui, await beginRegistration(db, { account, sessionId, name, rp }), name, error, 400);

    const outcome = browserOutcome(request.body.outcome);
    if (outcome) {
      const taken = await takeChallenge(db, { account, sessionId, challengeId, purpose: 'register' });
      return taken ? again(taken.keyName ?? '', outcome) : expired();
    }
    const result = await finishRegistration(db, {
      account,
      sessionId,
      challengeId,
      response: request.body.response ?? '',
      rp,
      ip: request.ip,
    });
    if (result.kind === 'expired') return expired();
    if (result.kind !== 'added') return again(result.name, result.kind);
    if (account.authType !== 'security_key')
      await accounts.setAuthType(account.id, 'security_key', account.id, request.ip);
    return reply.redirect('/account/security-keys?notice=added', 303);
  });

  app.get<{ Params: { id: string } }>(
    '/account/security-keys/:id/remove',
    { preHandler: requireUser },
    async (request, reply) => {
      const { ui } = request;
      const key = await findSecurityKey(db, ui.account!.id, request.params.id);
      if (!key) return reply.redirect('/account/security-keys', 303);
      const only = (await listSecurityKeys(db, ui.account!.id)).length === 1;
      return removePage(reply, ui, key, { only });
    },
  );

  app.post<{ Params: { id: string }; Body: Form }>(
    '/account/security-keys/:id/remove',
    { preHandler: requireUser },
    async (request, reply) => {
      const { ui } = request;
      const account = ui.account!;
      if (!deps.attempts.allow(`ip:${request.ip}`)) return tooMany(request, reply);
      const key = await findSecurityKey(db, account.id, request.params.id);
      if (!key) return reply.redirect('/account/security-keys', 303);
      const password = await confirmPassword(accounts, request, reply, request.body.password ?? '');
      if (password && !Array.isArray(password)) return password;
      if (password) return removePage(reply, ui, key, { errors: password }, 400);
      const result = await removeSecurityKey(db, {
        userId: account.id,
        keyId: key.id,
        actorId: account.id,
        ip: request.ip,
      });
      if (result.kind === 'last') return removePage(reply, ui, key, { only: true }, 400);
      return reply.redirect(`/account/security-keys${result.kind === 'removed' ? '?notice=removed' : ''}`, 303);
    },
  );

  // ---- signing in with a key ---------------------------------------------------------------------------------

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
      rp: relyingParty(request),
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
      rp: relyingParty(request),
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
