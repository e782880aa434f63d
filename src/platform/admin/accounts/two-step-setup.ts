/** Finishing a change of two-step method: confirming a mobile number with a code, setting up an authenticator app. */
import type { FastifyInstance } from 'fastify';
import { requireUser } from '../../ui/guards.ts';
import type { AdminDeps } from '../../ui/admin-deps.ts';
import { authenticatorPage, confirmMobilePage } from './views.ts';
import { accountScope, type Form } from './scope.ts';

export async function twoStepSetupRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const { accounts } = accountScope(deps);

  app.get('/account/two-step/confirm-mobile', { preHandler: requireUser }, async (request, reply) =>
    confirmMobilePage(reply, request.ui, {}),
  );

  app.post<{ Body: Form }>('/account/two-step/confirm-mobile', { preHandler: requireUser }, async (request, reply) => {
    const { ui } = request;
    const account = ui.account!;
    const code = (request.body.code ?? '').trim();
    if (!code)
      return confirmMobilePage(reply, ui, { errors: [{ field: 'code', message: ui.t('field.code.missing') }] }, 400);
    if (!(await accounts.verifyCode(account.id, code)))
      return confirmMobilePage(reply, ui, { errors: [{ field: 'code', message: ui.t('field.code.wrong') }] }, 400);
    await accounts.setAuthType(account.id, 'sms', account.id, request.ip);
    return reply.redirect('/account?notice=two-step-changed', 303);
  });

  app.get('/account/authenticator', { preHandler: requireUser }, async (request, reply) => {
    const account = request.ui.account!;
    const setup = await accounts.pendingTotpSecret(account.id);
    if (!setup) return reply.redirect('/account/two-step', 303);
    return authenticatorPage(reply, request.ui, setup, {});
  });

  app.post<{ Body: Form }>('/account/authenticator', { preHandler: requireUser }, async (request, reply) => {
    const { ui } = request;
    const account = ui.account!;
    const setup = await accounts.pendingTotpSecret(account.id);
    if (!setup) return reply.redirect('/account/authenticator', 303);
    const code = (request.body.code ?? '').trim();
    if (!code)
      return authenticatorPage(
        reply,
        ui,
        setup,
        { errors: [{ field: 'code', message: ui.t('field.code.missing') }] },
        400,
      );
    if (!(await accounts.confirmTotp(account.id, code, request.ip))) {
      return authenticatorPage(
        reply,
        ui,
        setup,
        { errors: [{ field: 'code', message: ui.t('field.appCode.wrong') }] },
        400,
      );
    }
    return reply.redirect('/account?notice=two-step-changed', 303);
  });
}
