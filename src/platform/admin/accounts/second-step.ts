/** The second step of signing in: a code sent by email or text, or an authenticator app's code. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { safeNext } from '../../ui/context.ts';
import type { AdminDeps } from '../../ui/admin-deps.ts';
import { appCodePage, codePage } from './views.ts';
import { accountScope, type Form } from './scope.ts';

export async function secondStepRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const { accounts, tooMany, sendCode, finishSignIn, secondStepFailed } = accountScope(deps);

  /** The pre-session of someone between the password and the second step; else back to the sign-in page. */
  const pending = (request: FastifyRequest) =>
    request.ui.session?.stage === 'second-factor' ? request.ui.session : null;

  app.get<{ Querystring: { next?: string; sent?: string } }>('/sign-in/code', async (request, reply) => {
    const session = pending(request);
    if (!session) return reply.redirect('/sign-in?notice=session-expired', 303);
    return codePage(reply, request.ui, session.account, {
      next: request.query.next,
      resent: request.query.sent === '1',
    });
  });

  app.post<{ Body: Form }>('/sign-in/code', async (request, reply) => {
    const session = pending(request);
    if (!session) return reply.redirect('/sign-in?notice=session-expired', 303);
    const { ui } = request;
    if (!deps.attempts.allow(`ip:${request.ip}`)) return tooMany(request, reply);
    const code = (request.body.code ?? '').trim();
    const next = request.body.next;
    if (!code)
      return codePage(
        reply,
        ui,
        session.account,
        { next, errors: [{ field: 'code', message: ui.t('field.code.missing') }] },
        400,
      );
    if (await accounts.verifyCode(session.account.id, code))
      return finishSignIn(request, reply, session.id, session.account, session.account.authType, next);
    return secondStepFailed(request, reply, session.account, () =>
      codePage(
        reply,
        ui,
        session.account,
        { next, errors: [{ field: 'code', message: ui.t('field.code.wrong') }] },
        400,
      ),
    );
  });

  app.post<{ Body: Form }>('/sign-in/code/resend', async (request, reply) => {
    const session = pending(request);
    if (!session) return reply.redirect('/sign-in?notice=session-expired', 303);
    if (!deps.attempts.allow(`ip:${request.ip}`)) return tooMany(request, reply);
    await sendCode(session.account);
    const next = request.body.next ? `&next=${encodeURIComponent(safeNext(request.body.next))}` : '';
    return reply.redirect(`/sign-in/code?sent=1${next}`, 303);
  });

  app.get<{ Querystring: { next?: string } }>('/sign-in/app', async (request, reply) => {
    const session = pending(request);
    if (!session) return reply.redirect('/sign-in?notice=session-expired', 303);
    return appCodePage(reply, request.ui, { next: request.query.next });
  });

  app.post<{ Body: Form }>('/sign-in/app', async (request, reply) => {
    const session = pending(request);
    if (!session) return reply.redirect('/sign-in?notice=session-expired', 303);
    const { ui } = request;
    if (!deps.attempts.allow(`ip:${request.ip}`)) return tooMany(request, reply);
    const code = (request.body.code ?? '').trim();
    const next = request.body.next;
    if (!code)
      return appCodePage(reply, ui, { next, errors: [{ field: 'code', message: ui.t('field.code.missing') }] }, 400);
    if (session.account.authType === 'totp' && (await accounts.verifyTotp(session.account.id, code))) {
      return finishSignIn(request, reply, session.id, session.account, 'totp', next);
    }
    return secondStepFailed(request, reply, session.account, () =>
      appCodePage(reply, ui, { next, errors: [{ field: 'code', message: ui.t('field.appCode.wrong') }] }, 400),
    );
  });
}
