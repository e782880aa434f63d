/** Signing up with an allowed address, confirming it, and setting or resetting a password from a link. */
import type { FastifyInstance } from 'fastify';
import { SESSION_COOKIE } from '../../ui/context.ts';
import type { AdminDeps } from '../../ui/admin-deps.ts';
import { AccountError, looksLikeEmail } from '../../accounts/accounts.ts';
import { newAccountForm, passwordErrors } from './forms.ts';
import { checkEmailPage, expiredLinkPage, forgotPage, newPasswordPage, signUpPage } from './views.ts';
import { accountScope, type Form } from './scope.ts';

export async function signUpRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const { accounts, messages, tooMany } = accountScope(deps);

  // ---- sign up and confirmation ------------------------------------------------------------------------------

  const domains = () => deps.services.config.signupDomains.join(', ');

  app.get('/sign-up', async (request, reply) => {
    if (request.ui.account) return reply.redirect('/', 303);
    return signUpPage(reply, request.ui, domains(), {});
  });

  app.post<{ Body: Form }>('/sign-up', async (request, reply) => {
    const { ui } = request;
    if (!deps.attempts.allow(`ip:${request.ip}`)) return tooMany(request, reply);
    const { name, email, password, errors } = newAccountForm(ui, request.body);
    if (errors.length) return signUpPage(reply, ui, domains(), { name, email, errors }, 400);
    try {
      const { account, token } = await accounts.signUp({ name, email, password, language: ui.locale, ip: request.ip });
      await messages.deliver('email-confirmation', account.language, account.email, {
        name: account.name,
        link: `${deps.siteRoot()}/confirm-email/${token}`,
      });
    } catch (err) {
      if (!(err instanceof AccountError)) throw err;
      if (err.code === 'domain-not-allowed') {
        return signUpPage(
          reply,
          ui,
          domains(),
          {
            name,
            email,
            errors: [{ field: 'email', message: ui.t('signUp.domainNotAllowed', { domains: domains() }) }],
          },
          400,
        );
      }
      // email-taken: answered like a success, so that the form does not tell who has an account.
      if (err.code !== 'email-taken') throw err;
    }
    return checkEmailPage(reply, ui, 'signUp.checkEmail', email);
  });

  app.get<{ Params: { token: string } }>('/confirm-email/:token', async (request, reply) => {
    const account = await accounts.confirmEmail(request.params.token, request.ip);
    if (!account) return expiredLinkPage(reply, request.ui);
    return reply.redirect('/sign-in?notice=email-confirmed', 303);
  });

  // ---- forgotten password ------------------------------------------------------------------------------------

  app.get('/forgot-password', async (request, reply) => forgotPage(reply, request.ui, {}));

  app.post<{ Body: Form }>('/forgot-password', async (request, reply) => {
    const { ui } = request;
    if (!deps.attempts.allow(`ip:${request.ip}`)) return tooMany(request, reply);
    const email = (request.body.email ?? '').trim();
    if (!email)
      return forgotPage(reply, ui, { errors: [{ field: 'email', message: ui.t('field.email.missing') }] }, 400);
    if (!looksLikeEmail(email))
      return forgotPage(reply, ui, { email, errors: [{ field: 'email', message: ui.t('field.email.invalid') }] }, 400);
    const reset = await accounts.requestPasswordReset(email, request.ip);
    if (reset) {
      await messages.deliver('password-reset', reset.account.language, reset.account.email, {
        name: reset.account.name,
        link: `${deps.siteRoot()}/reset-password/${reset.token}`,
      });
    }
    return checkEmailPage(reply, ui, 'forgot.checkEmail', email);
  });

  for (const purpose of ['reset-password', 'set-password'] as const) {
    app.get<{ Params: { token: string } }>(`/${purpose}/:token`, async (request, reply) => {
      const account = await accounts.peekToken(request.params.token, purpose);
      if (!account) return expiredLinkPage(reply, request.ui);
      return newPasswordPage(reply, request.ui, purpose, request.params.token, account, {});
    });
    app.post<{ Params: { token: string }; Body: Form }>(`/${purpose}/:token`, async (request, reply) => {
      const { ui } = request;
      const account = await accounts.peekToken(request.params.token, purpose);
      if (!account) return expiredLinkPage(reply, ui);
      const password = request.body.password ?? '';
      const errors = passwordErrors(ui, password, 'password');
      if (errors.length) return newPasswordPage(reply, ui, purpose, request.params.token, account, { errors }, 400);
      const updated = await accounts.setPasswordWithToken(request.params.token, purpose, password, request.ip);
      if (!updated) return expiredLinkPage(reply, ui);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.redirect('/sign-in?notice=password-changed', 303);
    });
  }
}
