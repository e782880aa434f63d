/** Signing in with a password, and signing out (here or everywhere). */
import type { FastifyInstance } from 'fastify';
import type { FieldError } from '../../ui/layout.ts';
import { requireUser } from '../../ui/guards.ts';
import { safeNext, setSessionCookie, SESSION_COOKIE } from '../../ui/context.ts';
import type { AdminDeps } from '../../ui/admin-deps.ts';
import { signInPage } from './views.ts';
import { accountScope, type Form, NOTICES, SECOND_STEP_PATH } from './scope.ts';

export async function signInRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const { accounts, messages, meta, tooMany, sendCode } = accountScope(deps);

  // ---- sign in -----------------------------------------------------------------------------------------------

  app.get<{ Querystring: { notice?: string; next?: string } }>('/sign-in', async (request, reply) => {
    if (request.ui.account) return reply.redirect(safeNext(request.query.next), 303);
    if (!(await accounts.hasAnyAccount())) return reply.redirect('/', 303);
    const shown = NOTICES.find((n) => n === request.query.notice);
    return signInPage(reply, request.ui, { notice: shown, next: request.query.next });
  });

  app.post<{ Body: Form }>('/sign-in', async (request, reply) => {
    const { ui } = request;
    if (!deps.attempts.allow(`ip:${request.ip}`)) return tooMany(request, reply);
    const email = (request.body.email ?? '').trim();
    const password = request.body.password ?? '';
    const next = request.body.next;
    const errors: FieldError[] = [];
    if (!email) errors.push({ field: 'email', message: ui.t('field.email.missing') });
    if (!password) errors.push({ field: 'password', message: ui.t('field.password.missing') });
    if (errors.length) return signInPage(reply, ui, { email, errors, next }, 400);
    const outcome = await accounts.checkPassword(email, password, request.ip);
    if (outcome.kind === 'bad')
      return signInPage(reply, ui, { email, next, errors: [{ field: 'email', message: ui.t('signIn.wrong') }] }, 400);
    if (outcome.kind === 'locked') {
      return signInPage(
        reply,
        ui,
        {
          email,
          next,
          errors: [{ field: 'email', message: ui.t('signIn.locked', { time: ui.formatDateTime(outcome.until) }) }],
        },
        400,
      );
    }
    if (outcome.kind === 'unconfirmed') {
      const token = await accounts.issueToken(outcome.account.id, 'confirm-email');
      await messages.deliver('email-confirmation', outcome.account.language, outcome.account.email, {
        name: outcome.account.name,
        link: `${deps.siteRoot()}/confirm-email/${token}`,
      });
      return signInPage(
        reply,
        ui,
        { email, next, errors: [{ field: 'email', message: ui.t('signIn.unconfirmed') }] },
        400,
      );
    }
    const account = outcome.account;
    if (request.ui.session) await accounts.endSession(request.ui.session.id);
    const token = await accounts.createSession(account.id, 'second-factor', meta(request));
    setSessionCookie(reply, ui, token);
    if (account.authType === 'email' || account.authType === 'sms') await sendCode(account);
    const query = next ? `?next=${encodeURIComponent(safeNext(next))}` : '';
    return reply.redirect(`${SECOND_STEP_PATH[account.authType]}${query}`, 303);
  });

  // ---- sign out ----------------------------------------------------------------------------------------------

  app.post('/sign-out', async (request, reply) => {
    const session = request.ui.session;
    if (session) {
      await accounts.endSession(session.id);
      await accounts.audit({
        event: 'sign-out',
        actorId: session.account.id,
        userId: session.account.id,
        ip: request.ip,
      });
    }
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect('/sign-in?notice=signed-out', 303);
  });

  app.post('/sign-out-everywhere', { preHandler: requireUser }, async (request, reply) => {
    const account = request.ui.account!;
    await accounts.endAllSessions(account.id);
    await accounts.audit({ event: 'sign-out-everywhere', actorId: account.id, userId: account.id, ip: request.ip });
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect('/sign-in?notice=signed-out-everywhere', 303);
  });
}
