/**
 * The account's own pages: its settings and choosing the two-step method; confirming a mobile number and the
 * authenticator app are in two-step-setup.ts.
 */
import type { FastifyInstance } from 'fastify';
import { requireUser } from '../../ui/guards.ts';
import type { AdminDeps } from '../../ui/admin-deps.ts';
import { InvalidRecipientError, validatePhoneNumber, type CountryCode } from '../../recipients.ts';
import { confirmPassword } from './forms.ts';
import { accountPage, twoStepPage } from './views.ts';
import { accountScope, type Form, NOTICES } from './scope.ts';
import { twoStepSetupRoutes } from './two-step-setup.ts';

export async function accountPageRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const { accounts, messages } = accountScope(deps);

  // ---- your account ------------------------------------------------------------------------------------------

  app.get<{ Querystring: { notice?: string } }>('/account', { preHandler: requireUser }, async (request, reply) => {
    const shown = NOTICES.find((n) => n === request.query.notice);
    return accountPage(reply, request.ui, shown);
  });

  app.get('/account/two-step', { preHandler: requireUser }, async (request, reply) =>
    twoStepPage(reply, request.ui, {
      method: request.ui.account!.authType,
      mobile: request.ui.account!.mobileNumber ?? '',
    }),
  );

  app.post<{ Body: Form }>('/account/two-step', { preHandler: requireUser }, async (request, reply) => {
    const { ui } = request;
    const account = ui.account!;
    const method = request.body.method;
    const mobile = (request.body.mobile ?? '').trim();
    // Adding a first key makes security keys the way to sign in (routes/security-keys.ts); that page asks for the password.
    if (method === 'security_key')
      return reply.redirect(
        account.authType === 'security_key' ? '/account/security-keys' : '/account/security-keys/new',
        303,
      );
    if (method !== 'email' && method !== 'sms' && method !== 'totp') {
      return twoStepPage(reply, ui, { mobile, errors: [{ field: 'method', message: ui.t('twoStep.choose') }] }, 400);
    }
    const passwordProblems = await confirmPassword(accounts, request, reply, request.body.password ?? '');
    if (passwordProblems && !Array.isArray(passwordProblems)) return passwordProblems;
    if (passwordProblems) return twoStepPage(reply, ui, { method, mobile, errors: passwordProblems }, 400);
    if (method === 'email') {
      await accounts.setAuthType(account.id, 'email', account.id, request.ip);
      return reply.redirect('/account?notice=two-step-changed', 303);
    }
    if (method === 'totp') {
      // A new secret each time, made only here, after the password: the set-up page shows it, never makes one.
      await accounts.beginTotp(account);
      return reply.redirect('/account/authenticator', 303);
    }
    if (!mobile)
      return twoStepPage(
        reply,
        ui,
        { method, mobile, errors: [{ field: 'mobile', message: ui.t('field.mobile.missing') }] },
        400,
      );
    let e164: string;
    try {
      e164 = validatePhoneNumber(mobile, { defaultRegion: deps.services.config.phoneRegion as CountryCode }).e164;
    } catch (err) {
      if (!(err instanceof InvalidRecipientError)) throw err;
      return twoStepPage(
        reply,
        ui,
        { method, mobile, errors: [{ field: 'mobile', message: ui.t('field.mobile.invalid') }] },
        400,
      );
    }
    await accounts.setMobileNumber(account.id, e164);
    const code = await accounts.issueCode(account.id, 'sms');
    await messages.deliver('sign-in-code-sms', account.language, e164, { code });
    return reply.redirect('/account/two-step/confirm-mobile', 303);
  });

  await twoStepSetupRoutes(app, deps);
}
