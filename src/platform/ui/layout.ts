/**
 * The page every UI view sits in (Canada.ca-like header with the language toggle, navigation, main landmark,
 * footer), and the form pieces views share: CSRF field, GC error summary, text inputs, radios.
 */
import type { FastifyReply } from 'fastify';
import { html, type Html, type HtmlValue } from './html.ts';
import { CSRF_FIELD, type UiContext } from './context.ts';
import { ASSET_VERSION } from './assets.ts';

export interface FieldError {
  /** The id of the input the message is about (the summary links to it). */
  field: string;
  message: string;
}

export interface PageOptions {
  title: string;
  body: HtmlValue;
  /** Shown in the title ("Error: …") and used by the summary the view puts at the top of its form. */
  errors?: readonly FieldError[];
}

export function layout(ui: UiContext, opts: PageOptions): Html {
  const { t } = ui;
  const other = ui.locale === 'en' ? 'fr' : 'en';
  const title = `${opts.errors?.length ? `${t('error.titlePrefix')} ` : ''}${opts.title} – Envoi`;
  const toggle = `/language?to=${other}&next=${encodeURIComponent(ui.path)}`;
  return html`<!doctype html>
<html lang="${ui.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="stylesheet" href="/assets/${ASSET_VERSION}/tokens.css">
<link rel="stylesheet" href="/assets/${ASSET_VERSION}/envoi.css">
</head>
<body>
<a class="skip-link" href="#main">${t('layout.skipLink')}</a>
<header class="site-header">
  <div class="container brand-row">
    <a class="brand" href="/"><span class="flag" aria-hidden="true"></span>Envoi <small>${t('layout.tagline')}</small></a>
    <a class="lang-toggle" href="${toggle}" lang="${other}" hreflang="${other}">${t('layout.otherLanguage')}</a>
  </div>
  ${
    ui.account
      ? html`<nav class="site-nav" aria-label="${t('layout.navLabel')}"><div class="container"><ul>
        <li><a href="/">${t('layout.nav.home')}</a></li>
        <li><a href="/account">${t('layout.nav.account')}</a></li>
        ${ui.account.platformAdmin && html`<li><a href="/platform-admin">${t('layout.nav.platformAdmin')}</a></li>`}
        <li><form method="post" action="/sign-out">${csrfField(ui)}<button class="link" type="submit">${t('layout.nav.signOut')}</button></form></li>
        <li class="who">${t('layout.signedInAs', { email: ui.account.email })}</li>
      </ul></div></nav>`
      : ''
  }
</header>
<main id="main" tabindex="-1"><div class="container">
${opts.body}
</div></main>
<footer class="site-footer"><div class="container"><p>${t('layout.footer')}</p></div></footer>
</body>
</html>`;
}

export function sendPage(reply: FastifyReply, ui: UiContext, opts: PageOptions, status = 200): FastifyReply {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .send(String(layout(ui, opts)));
}

export function csrfField(ui: UiContext): Html {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${ui.csrfToken}">`;
}

export interface FormPageOptions {
  title: string;
  /** Above the heading, below the error summary: a notice, say. */
  before?: HtmlValue;
  /** Between the heading and the form. */
  intro?: HtmlValue;
  /** Where the form posts. */
  action: string;
  /** Hidden fields besides the CSRF token. */
  hidden?: HtmlValue;
  fields: HtmlValue;
  submit: string;
  /** Where a Cancel link beside the button goes, if there is one. */
  cancel?: string;
  /** Below the form. */
  after?: HtmlValue;
  errors?: readonly FieldError[];
}

/**
 * A page that is one form, laid out as GC pages are: the error summary linked to the fields, the heading, an
 * intro, the form (CSRF token, fields, button, Cancel), then anything below it. For sendPage or sendServicePage.
 */
export function formPage(ui: UiContext, o: FormPageOptions): PageOptions {
  return {
    title: o.title,
    errors: o.errors,
    body: html`${errorSummary(ui, o.errors)}
${o.before}
<h1>${o.title}</h1>
${o.intro}
<form method="post" action="${o.action}" novalidate>
  ${csrfField(ui)}${o.hidden}
  ${o.fields}
  <div class="actions"><button type="submit">${o.submit}</button>${o.cancel && html` <a href="${o.cancel}">${ui.t('common.cancel')}</a>`}</div>
</form>
${o.after}`,
  };
}

/** GC's error summary: a heading and one link per problem, to the field it is about. */
export function errorSummary(ui: UiContext, errors: readonly FieldError[] | undefined): Html {
  if (!errors || errors.length === 0) return html``;
  return html`<div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1">
  <h2 id="error-summary-title">${ui.t('error.summaryTitle')}</h2>
  <ul>${errors.map((e) => html`<li><a href="#${e.field}">${e.message}</a></li>`)}</ul>
</div>`;
}

export interface InputOptions {
  id: string;
  name?: string;
  label: string;
  hint?: string;
  type?: 'text' | 'email' | 'password' | 'tel' | 'search';
  value?: string;
  autocomplete?: string;
  inputmode?: 'numeric' | 'email' | 'tel' | 'text';
  errors?: readonly FieldError[];
  className?: string;
  required?: boolean;
}

export function textInput(o: InputOptions): Html {
  const error = o.errors?.find((e) => e.field === o.id);
  const described = [o.hint ? `${o.id}-hint` : '', error ? `${o.id}-error` : ''].filter(Boolean).join(' ');
  return html`<div class="field${error ? ' has-error' : ''}">
  <label for="${o.id}">${o.label}</label>
  ${o.hint && html`<span class="hint" id="${o.id}-hint">${o.hint}</span>`}
  ${error && html`<span class="error-message" id="${o.id}-error">${error.message}</span>`}
  <input id="${o.id}" name="${o.name ?? o.id}" type="${o.type ?? 'text'}"${o.value !== undefined ? html` value="${o.value}"` : ''}${o.autocomplete ? html` autocomplete="${o.autocomplete}"` : ''}${o.inputmode ? html` inputmode="${o.inputmode}"` : ''}${o.className ? html` class="${o.className}"` : ''}${described ? html` aria-describedby="${described}"` : ''}${error ? html` aria-invalid="true"` : ''}${o.required ? html` required` : ''} spellcheck="false">
</div>`;
}

export interface RadioOption {
  value: string;
  label: string;
  hint?: string;
}

export function radios(o: {
  id: string;
  name: string;
  legend: string;
  options: RadioOption[];
  value?: string;
  errors?: readonly FieldError[];
}): Html {
  const error = o.errors?.find((e) => e.field === o.id);
  return html`<div class="field${error ? ' has-error' : ''}"><fieldset${error ? html` aria-describedby="${o.id}-error"` : ''}>
  <legend>${o.legend}</legend>
  ${error && html`<span class="error-message" id="${o.id}-error">${error.message}</span>`}
  ${o.options.map(
    (opt, i) => html`<div class="radio">
    <input type="radio" id="${i === 0 ? o.id : `${o.id}-${opt.value}`}" name="${o.name}" value="${opt.value}"${opt.value === o.value ? ' checked' : ''}${opt.hint ? html` aria-describedby="${o.id}-${opt.value}-hint"` : ''}>
    <label for="${i === 0 ? o.id : `${o.id}-${opt.value}`}">${opt.label}${opt.hint && html`<span class="hint" id="${o.id}-${opt.value}-hint">${opt.hint}</span>`}</label>
  </div>`,
  )}
</fieldset></div>`;
}

export function notice(text: HtmlValue, kind: 'info' | 'success' | 'warning' = 'info'): Html {
  return html`<div class="notice ${kind}" role="${kind === 'warning' ? 'alert' : 'status'}">${text}</div>`;
}

export function forbiddenPage(ui: UiContext): Html {
  return layout(ui, {
    title: ui.t('forbidden.title'),
    body: html`<h1>${ui.t('forbidden.title')}</h1><p>${ui.t('forbidden.body')}</p>`,
  });
}

export function notFoundPage(ui: UiContext): Html {
  return layout(ui, {
    title: ui.t('notFound.title'),
    body: html`<h1>${ui.t('notFound.title')}</h1><p>${ui.t('notFound.body')}</p><p><a href="/">${ui.t('notFound.home')}</a></p>`,
  });
}
