/**
 * Signing in (password, then a second step), signing out (here or everywhere), signing up with an allowed
 * address, confirming it, resetting a password, and the account's own settings (language, two-step method,
 * authenticator app). Every form works without JavaScript.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html } from '../../ui/html.ts';
import { sendPage, type FieldError } from '../../ui/layout.ts';
import { requireUser } from '../../ui/guards.ts';
import { safeNext, setSessionCookie, SESSION_COOKIE } from '../../ui/context.ts';
import type { AdminDeps } from '../../ui/admin-deps.ts';
import { AccountError, looksLikeEmail, type Account } from '../../accounts/accounts.ts';
import { InvalidRecipientError, validatePhoneNumber, type CountryCode } from '../../../notify/sending/recipients.ts';
import type { AuthType } from '../../database/schema.ts';
import { confirmPassword, passwordErrors } from './forms.ts';
import {
  accountPage,
  appCodePage,
  authenticatorPage,
  checkEmailPage,
  codePage,
  confirmMobilePage,
  expiredLinkPage,
  forgotPage,
  newPasswordPage,
  signInPage,
  signUpPage,
  twoStepPage,
} from './views.ts';
type Form = Record<string, string | undefined>;

const NOTICES = [
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

export async function accountRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
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
        link: `${deps.siteRoot(request)}/confirm-email/${token}`,
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

  // ---- sign up and confirmation ------------------------------------------------------------------------------

  const domains = () => deps.services.config.signupDomains.join(', ');

  app.get('/sign-up', async (request, reply) => {
    if (request.ui.account) return reply.redirect('/', 303);
    return signUpPage(reply, request.ui, domains(), {});
  });

  app.post<{ Body: Form }>('/sign-up', async (request, reply) => {
    const { ui } = request;
    if (!deps.attempts.allow(`ip:${request.ip}`)) return tooMany(request, reply);
    const name = (request.body.name ?? '').trim();
    const email = (request.body.email ?? '').trim();
    const password = request.body.password ?? '';
    const errors: FieldError[] = [];
    if (!name) errors.push({ field: 'name', message: ui.t('field.name.missing') });
    if (!email) errors.push({ field: 'email', message: ui.t('field.email.missing') });
    else if (!looksLikeEmail(email)) errors.push({ field: 'email', message: ui.t('field.email.invalid') });
    errors.push(...passwordErrors(ui, password, 'password'));
    if (errors.length) return signUpPage(reply, ui, domains(), { name, email, errors }, 400);
    try {
      const { account, token } = await accounts.signUp({ name, email, password, language: ui.locale, ip: request.ip });
      await messages.deliver('email-confirmation', account.language, account.email, {
        name: account.name,
        link: `${deps.siteRoot(request)}/confirm-email/${token}`,
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
        link: `${deps.siteRoot(request)}/reset-password/${reset.token}`,
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
