/** The pages of signing in, signing up, passwords and the account's second step. */
import type { FastifyReply } from 'fastify';
import { html, type Html } from '../../ui/html.ts';
import { csrfField, formPage, notice, radios, sendPage, textInput, type FieldError } from '../../ui/layout.ts';
import { safeNext, type UiContext } from '../../ui/context.ts';
import type { Account } from '../../accounts/accounts.ts';
function nextField(next: string | undefined): Html {
  return next ? html`<input type="hidden" name="next" value="${safeNext(next)}">` : html``;
}

export function signInPage(
  reply: FastifyReply,
  ui: UiContext,
  v: { email?: string; errors?: FieldError[]; notice?: string; next?: string },
  status = 200,
) {
  const { t } = ui;
  const page = formPage(ui, {
    title: t('signIn.title'),
    errors: v.errors,
    before:
      v.notice && notice(html`<p>${t(`notice.${v.notice}`)}</p>`, v.notice === 'session-expired' ? 'info' : 'success'),
    action: '/sign-in',
    hidden: nextField(v.next),
    fields: html`${textInput({ id: 'email', label: t('field.email.label'), type: 'email', value: v.email, autocomplete: 'email', errors: v.errors })}
  ${textInput({ id: 'password', label: t('field.password.label'), type: 'password', autocomplete: 'current-password', errors: v.errors })}`,
    submit: t('signIn.submit'),
    after: html`<p><a href="/forgot-password">${t('signIn.forgot')}</a></p>
<p>${t('signIn.noAccount')} <a href="/sign-up">${t('signIn.createAccount')}</a></p>`,
  });
  return sendPage(reply, ui, page, status);
}

function codeField(ui: UiContext, errors: readonly FieldError[] | undefined): Html {
  const { t } = ui;
  return textInput({
    id: 'code',
    label: t('field.code.label'),
    hint: t('field.code.hint'),
    inputmode: 'numeric',
    autocomplete: 'one-time-code',
    className: 'code',
    errors,
  });
}

export function codePage(
  reply: FastifyReply,
  ui: UiContext,
  account: Account,
  v: { next?: string; errors?: FieldError[]; resent?: boolean },
  status = 200,
) {
  const { t } = ui;
  const bySms = account.authType === 'sms' && !!account.mobileNumber;
  const page = formPage(ui, {
    title: bySms ? t('code.titleSms') : t('code.titleEmail'),
    errors: v.errors,
    before: v.resent && notice(html`<p>${t('code.resent')}</p>`, 'success'),
    intro: html`<p>${bySms ? t('code.introSms') : t('code.introEmail', { email: account.email })}</p>`,
    action: '/sign-in/code',
    hidden: nextField(v.next),
    fields: codeField(ui, v.errors),
    submit: t('code.submit'),
    after: html`<form method="post" action="/sign-in/code/resend">
  ${csrfField(ui)}${nextField(v.next)}
  <p>${t('code.notReceived')} <button type="submit" class="link">${t('code.resend')}</button></p>
</form>`,
  });
  return sendPage(reply, ui, page, status);
}

export function appCodePage(
  reply: FastifyReply,
  ui: UiContext,
  v: { next?: string; errors?: FieldError[] },
  status = 200,
) {
  const { t } = ui;
  const page = formPage(ui, {
    title: t('appCode.title'),
    errors: v.errors,
    intro: html`<p>${t('appCode.intro')}</p>`,
    action: '/sign-in/app',
    hidden: nextField(v.next),
    fields: codeField(ui, v.errors),
    submit: t('code.submit'),
    after: html`<p>${t('appCode.lost')}</p>`,
  });
  return sendPage(reply, ui, page, status);
}

export function signUpPage(
  reply: FastifyReply,
  ui: UiContext,
  domains: string,
  v: { name?: string; email?: string; errors?: FieldError[] },
  status = 200,
) {
  const { t } = ui;
  const page = formPage(ui, {
    title: t('signUp.title'),
    errors: v.errors,
    intro: html`<p>${t('signUp.intro', { domains })}</p>`,
    action: '/sign-up',
    fields: html`${textInput({ id: 'name', label: t('field.name.label'), value: v.name, autocomplete: 'name', errors: v.errors })}
  ${textInput({ id: 'email', label: t('field.email.label'), hint: t('signUp.emailHint', { domains }), type: 'email', value: v.email, autocomplete: 'email', errors: v.errors })}
  ${newPasswordField(ui, v.errors)}`,
    submit: t('signUp.submit'),
    after: html`<p>${t('signUp.haveAccount')} <a href="/sign-in">${t('signIn.title')}</a></p>`,
  });
  return sendPage(reply, ui, page, status);
}

export function checkEmailPage(reply: FastifyReply, ui: UiContext, key: string, email: string) {
  const { t } = ui;
  return sendPage(reply, ui, {
    title: t('checkEmail.title'),
    body: html`<h1>${t('checkEmail.title')}</h1><p>${t(key, { email })}</p><p>${t('checkEmail.spam')}</p>`,
  });
}

export function expiredLinkPage(reply: FastifyReply, ui: UiContext) {
  const { t } = ui;
  return sendPage(
    reply,
    ui,
    {
      title: t('expiredLink.title'),
      body: html`<h1>${t('expiredLink.title')}</h1><p>${t('expiredLink.body')}</p>
<ul><li><a href="/sign-in">${t('signIn.title')}</a></li><li><a href="/forgot-password">${t('signIn.forgot')}</a></li></ul>`,
    },
    404,
  );
}

export function forgotPage(
  reply: FastifyReply,
  ui: UiContext,
  v: { email?: string; errors?: FieldError[] },
  status = 200,
) {
  const { t } = ui;
  const page = formPage(ui, {
    title: t('forgot.title'),
    errors: v.errors,
    intro: html`<p>${t('forgot.intro')}</p>`,
    action: '/forgot-password',
    fields: textInput({
      id: 'email',
      label: t('field.email.label'),
      type: 'email',
      value: v.email,
      autocomplete: 'email',
      errors: v.errors,
    }),
    submit: t('forgot.submit'),
  });
  return sendPage(reply, ui, page, status);
}

/** The field where someone chooses a password (sign-up, reset, first run). */
export function newPasswordField(ui: UiContext, errors: readonly FieldError[] | undefined): Html {
  const { t } = ui;
  return textInput({
    id: 'password',
    label: t('field.newPassword.label'),
    hint: t('field.newPassword.hint'),
    type: 'password',
    autocomplete: 'new-password',
    errors,
  });
}

export function newPasswordPage(
  reply: FastifyReply,
  ui: UiContext,
  purpose: 'reset-password' | 'set-password',
  token: string,
  account: Account,
  v: { errors?: FieldError[] },
  status = 200,
) {
  const { t } = ui;
  const page = formPage(ui, {
    title: purpose === 'reset-password' ? t('newPassword.resetTitle') : t('newPassword.setTitle'),
    errors: v.errors,
    intro: html`<p>${t('newPassword.for', { email: account.email })}</p>`,
    action: `/${purpose}/${token}`,
    fields: newPasswordField(ui, v.errors),
    submit: t('newPassword.submit'),
  });
  return sendPage(reply, ui, page, status);
}

export function accountPage(reply: FastifyReply, ui: UiContext, shown: string | undefined) {
  const { t } = ui;
  const account = ui.account!;
  return sendPage(reply, ui, {
    title: t('account.title'),
    body: html`${shown && notice(html`<p>${t(`notice.${shown}`)}</p>`, 'success')}
<h1>${t('account.title')}</h1>
<dl class="summary-list">
  <dt>${t('field.name.label')}</dt><dd>${account.name}</dd>
  <dt>${t('field.email.label')}</dt><dd>${account.email}</dd>
  <dt>${t('field.mobile.label')}</dt><dd>${account.mobileNumber ?? t('account.none')}</dd>
  <dt>${t('account.language')}</dt><dd>${t(`language.${account.language}`)}</dd>
  <dt>${t('account.twoStep')}</dt><dd>${t(`twoStep.method.${account.authType}`)} · <a href="/account/two-step">${t('account.change')}<span class="visually-hidden"> ${t('account.twoStep')}</span></a>${account.authType === 'security_key' && html` · <a href="/account/security-keys">${t('securityKeys.manage')}</a>`}</dd>
  ${account.platformAdmin && html`<dt>${t('account.role')}</dt><dd>${t('account.platformAdmin')}</dd>`}
</dl>
<h2>${t('account.sessions')}</h2>
<p>${t('account.sessionsIntro')}</p>
<form method="post" action="/sign-out-everywhere">${csrfField(ui)}<button type="submit" class="secondary">${t('account.signOutEverywhere')}</button></form>`,
  });
}

export function twoStepPage(
  reply: FastifyReply,
  ui: UiContext,
  v: { method?: string; mobile?: string; errors?: FieldError[] },
  status = 200,
) {
  const { t } = ui;
  const page = formPage(ui, {
    title: t('twoStep.title'),
    errors: v.errors,
    intro: html`<p>${t('twoStep.intro')}</p>
${ui.account!.authType === 'security_key' && html`<p>${t('twoStep.keysRemoved')}</p>`}`,
    action: '/account/two-step',
    fields: html`${radios({
      id: 'method',
      name: 'method',
      legend: t('twoStep.legend'),
      value: v.method,
      errors: v.errors,
      options: [
        { value: 'email', label: t('twoStep.method.email'), hint: t('twoStep.hint.email') },
        { value: 'sms', label: t('twoStep.method.sms'), hint: t('twoStep.hint.sms') },
        { value: 'totp', label: t('twoStep.method.totp'), hint: t('twoStep.hint.totp') },
        { value: 'security_key', label: t('twoStep.method.security_key'), hint: t('twoStep.hint.security_key') },
      ],
    })}
  ${textInput({ id: 'mobile', label: t('field.mobile.label'), hint: t('field.mobile.hint'), type: 'tel', value: v.mobile, autocomplete: 'tel', errors: v.errors })}
  ${textInput({ id: 'password', label: t('field.password.label'), hint: t('twoStep.passwordHint'), type: 'password', autocomplete: 'current-password', errors: v.errors })}`,
    submit: t('twoStep.submit'),
    cancel: '/account',
  });
  return sendPage(reply, ui, page, status);
}

export function confirmMobilePage(reply: FastifyReply, ui: UiContext, v: { errors?: FieldError[] }, status = 200) {
  const { t } = ui;
  const page = formPage(ui, {
    title: t('code.titleSms'),
    errors: v.errors,
    intro: html`<p>${t('twoStep.confirmMobile')}</p>`,
    action: '/account/two-step/confirm-mobile',
    fields: codeField(ui, v.errors),
    submit: t('code.submit'),
  });
  return sendPage(reply, ui, page, status);
}

export function authenticatorPage(
  reply: FastifyReply,
  ui: UiContext,
  setup: { secret: string; uri: string },
  v: { errors?: FieldError[] },
  status = 200,
) {
  const { t } = ui;
  const grouped = setup.secret.replace(/(.{4})/g, '$1 ').trim();
  const page = formPage(ui, {
    title: t('authenticator.title'),
    errors: v.errors,
    intro: html`<ol>
  <li>${t('authenticator.step1')}</li>
  <li>${t('authenticator.step2')}<p class="secret" id="totp-secret">${grouped}</p><p><a href="${setup.uri}">${t('authenticator.openApp')}</a></p></li>
  <li>${t('authenticator.step3')}</li>
</ol>`,
    action: '/account/authenticator',
    fields: codeField(ui, v.errors),
    submit: t('authenticator.submit'),
    cancel: '/account',
  });
  return sendPage(reply, ui, page, status);
}
