/** The security-key pages: the list, naming a key, the browser ceremonies and removal. */
import type { FastifyReply } from 'fastify';
import { html, type Html } from '../../../ui/html.ts';
import { csrfField, errorSummary, formPage, notice, sendPage, textInput, type FieldError } from '../../../ui/layout.ts';
import { safeNext, type UiContext } from '../../../ui/context.ts';
import { ASSET_VERSION } from '../../../ui/assets.ts';
import { KEY_NAME_MAX, type Ceremony, type SecurityKey } from '../../../accounts/security-keys.ts';
import { type CeremonyError, ERROR_KEYS } from './forms.ts';
// ---- views ---------------------------------------------------------------------------------------------------

export function keysPage(reply: FastifyReply, ui: UiContext, keys: SecurityKey[], shown: string | undefined) {
  const { t } = ui;
  return sendPage(reply, ui, {
    title: t('securityKeys.title'),
    body: html`${shown && notice(html`<p>${t(`securityKeys.notice.${shown}`)}</p>`, 'success')}
<h1>${t('securityKeys.title')}</h1>
<p>${t('securityKeys.intro')}</p>
<table class="security-keys">
  <caption class="visually-hidden">${t('securityKeys.title')}</caption>
  <thead><tr><th scope="col">${t('securityKeys.column.name')}</th><th scope="col">${t('securityKeys.column.added')}</th><th scope="col">${t('securityKeys.column.lastUsed')}</th><th scope="col"><span class="visually-hidden">${t('securityKeys.column.actions')}</span></th></tr></thead>
  <tbody>${keys.map(
    (k) => html`<tr>
    <td>${k.name}</td>
    <td>${ui.formatDateTime(k.createdAt)}</td>
    <td>${k.lastUsedAt ? ui.formatDateTime(k.lastUsedAt) : t('securityKeys.neverUsed')}</td>
    <td><a href="/account/security-keys/${k.id}/remove">${t('securityKeys.remove')}<span class="visually-hidden"> ${k.name}</span></a></td>
  </tr>`,
  )}</tbody>
</table>
${keys.length < 2 && html`<p>${t('securityKeys.spare')}</p>`}
<p><a class="button" href="/account/security-keys/new">${t('securityKeys.add')}</a></p>
<p><a href="/account">${t('securityKeys.back')}</a></p>`,
  });
}

/** Said wherever a ceremony would run: a security key cannot be used without JavaScript. */
function needsJavaScript(ui: UiContext, key: string): Html {
  return html`<noscript>${notice(html`<p>${ui.t(key)}</p>`, 'warning')}</noscript>`;
}

export function newKeyPage(
  reply: FastifyReply,
  ui: UiContext,
  v: { name?: string; errors?: FieldError[] },
  status = 200,
) {
  const { t } = ui;
  const switching = ui.account!.authType !== 'security_key';
  const page = formPage(ui, {
    title: t('securityKeys.new.title'),
    errors: v.errors,
    intro: html`<p>${t('securityKeys.new.intro')}</p>
${switching && html`<p>${t('securityKeys.new.switch')}</p>`}
${needsJavaScript(ui, 'securityKeys.needsJs.account')}`,
    action: '/account/security-keys/new',
    fields: html`${textInput({ id: 'name', label: t('securityKeys.name.label'), hint: t('securityKeys.name.hint', { max: KEY_NAME_MAX }), value: v.name, autocomplete: 'off', errors: v.errors })}
  ${textInput({ id: 'password', label: t('securityKeys.password.label'), hint: t('securityKeys.password.hint'), type: 'password', autocomplete: 'current-password', errors: v.errors })}`,
    submit: t('securityKeys.new.submit'),
    cancel: switching ? '/account/two-step' : '/account/security-keys',
  });
  return sendPage(reply, ui, page, status);
}

interface CeremonyView {
  title: string;
  intro: string;
  action: string;
  /** create: adding a key; get: signing in. */
  kind: 'create' | 'get';
  ceremony: Ceremony<object>;
  button: string;
  needsJs: string;
  hidden?: Html;
  error?: CeremonyError;
  after: Html;
}

/**
 * The page where the browser talks to the key. The form stays hidden until the script shows it; the script puts
 * the browser's answer (or what went wrong) in it and sends it.
 */
function ceremonyPage(reply: FastifyReply, ui: UiContext, v: CeremonyView, status: number) {
  const { t } = ui;
  const errors: FieldError[] | undefined = v.error
    ? [{ field: 'security-key', message: t(ERROR_KEYS[v.error]) }]
    : undefined;
  return sendPage(
    reply,
    ui,
    {
      title: v.title,
      errors,
      body: html`${errorSummary(ui, errors)}
<h1>${v.title}</h1>
<p>${v.intro}</p>
${needsJavaScript(ui, v.needsJs)}
<div id="security-key-unsupported" hidden>${notice(html`<p>${t('securityKeys.unsupported')}</p>`, 'warning')}</div>
<form id="security-key-form" method="post" action="${v.action}" data-ceremony="${v.kind}" data-options="${JSON.stringify(v.ceremony.options)}" hidden novalidate>
  ${csrfField(ui)}${v.hidden}
  <input type="hidden" name="challenge" value="${v.ceremony.challengeId}">
  <input type="hidden" name="response" value="">
  <input type="hidden" name="outcome" value="">
  <div class="field${errors ? ' has-error' : ''}">
    ${errors && html`<span class="error-message" id="security-key-error">${errors[0]!.message}</span>`}
    <p class="hint" id="security-key-hint">${t('securityKeys.touch')}</p>
    <button type="submit" id="security-key" aria-describedby="security-key-hint${errors ? ' security-key-error' : ''}">${v.button}</button>
  </div>
</form>
${v.after}
<script src="/assets/${ASSET_VERSION}/security-key.js" defer></script>`,
    },
    status,
  );
}

export function registrationPage(
  reply: FastifyReply,
  ui: UiContext,
  ceremony: Ceremony<object>,
  name: string,
  error?: CeremonyError,
  status = 200,
) {
  const { t } = ui;
  const back = ui.account!.authType === 'security_key' ? '/account/security-keys' : '/account/two-step';
  return ceremonyPage(
    reply,
    ui,
    {
      title: t('securityKeys.register.title', { name }),
      intro: t('securityKeys.register.intro'),
      action: '/account/security-keys/register',
      kind: 'create',
      ceremony,
      button: t('securityKeys.register.button'),
      needsJs: 'securityKeys.needsJs.account',
      error,
      after: html`<p><a href="${back}">${t('common.cancel')}</a></p>`,
    },
    status,
  );
}

export function signInKeyPage(
  reply: FastifyReply,
  ui: UiContext,
  ceremony: Ceremony<object> | null,
  next: string | undefined,
  error: CeremonyError | undefined,
  status: number,
) {
  const { t } = ui;
  if (!ceremony) {
    return sendPage(reply, ui, {
      title: t('securityKeys.signIn.title'),
      body: html`<h1>${t('securityKeys.signIn.title')}</h1><p>${t('securityKeys.signIn.noKeys')}</p>`,
    });
  }
  return ceremonyPage(
    reply,
    ui,
    {
      title: t('securityKeys.signIn.title'),
      intro: t('securityKeys.signIn.intro'),
      action: '/sign-in/security-key',
      kind: 'get',
      ceremony,
      button: t('securityKeys.signIn.button'),
      needsJs: 'securityKeys.needsJs.signIn',
      hidden: next ? html`<input type="hidden" name="next" value="${safeNext(next)}">` : undefined,
      error,
      after: html`<p>${t('securityKeys.signIn.lost')}</p>`,
    },
    status,
  );
}

export function removePage(
  reply: FastifyReply,
  ui: UiContext,
  key: SecurityKey,
  v: { only?: boolean; errors?: FieldError[] },
  status = 200,
) {
  const { t } = ui;
  const title = t('securityKeys.removeKey.title', { name: key.name });
  return sendPage(
    reply,
    ui,
    {
      title,
      errors: v.errors,
      body: v.only
        ? html`<h1>${title}</h1>
${notice(html`<p>${t('securityKeys.removeKey.only')}</p>`, 'warning')}
<ul>
  <li><a href="/account/security-keys/new">${t('securityKeys.add')}</a></li>
  <li><a href="/account/two-step">${t('securityKeys.removeKey.otherWay')}</a></li>
  <li><a href="/account/security-keys">${t('securityKeys.removeKey.keep')}</a></li>
</ul>`
        : html`${errorSummary(ui, v.errors)}
<h1>${title}</h1>
<p>${t('securityKeys.removeKey.warning')}</p>
<form method="post" action="/account/security-keys/${key.id}/remove" novalidate>
  ${csrfField(ui)}
  ${textInput({ id: 'password', label: t('securityKeys.password.label'), hint: t('securityKeys.password.hint'), type: 'password', autocomplete: 'current-password', errors: v.errors })}
  <div class="actions"><button type="submit" class="danger">${t('securityKeys.removeKey.submit')}</button> <a href="/account/security-keys">${t('common.cancel')}</a></div>
</form>`,
    },
    status,
  );
}
