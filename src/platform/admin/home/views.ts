/** The first-run page and the home page. */
import { html } from '../../ui/html.ts';
import { formPage, sendPage, textInput, type FieldError } from '../../ui/layout.ts';
import type { UiContext } from '../../ui/context.ts';
import { newPasswordField } from '../accounts/views.ts';
export function firstRunPage(
  reply: import('fastify').FastifyReply,
  ui: UiContext,
  v: { name?: string; email?: string; errors?: FieldError[] },
  status = 200,
) {
  const { t } = ui;
  const page = formPage(ui, {
    title: t('firstRun.title'),
    errors: v.errors,
    intro: html`<p>${t('firstRun.intro')}</p>`,
    action: '/first-run',
    fields: html`${textInput({ id: 'name', label: t('field.name.label'), value: v.name, autocomplete: 'name', errors: v.errors })}
  ${textInput({ id: 'email', label: t('field.email.label'), type: 'email', value: v.email, autocomplete: 'email', errors: v.errors })}
  ${newPasswordField(ui, v.errors)}`,
    submit: t('firstRun.submit'),
  });
  return sendPage(reply, ui, page, status);
}

export function homePage(
  reply: import('fastify').FastifyReply,
  ui: UiContext,
  services: import('../../ui/html.ts').Html,
) {
  const { t } = ui;
  const account = ui.account!;
  return sendPage(reply, ui, {
    title: t('home.title'),
    body: html`<h1>${t('home.title')}</h1>
<p>${t('home.welcome', { name: account.name })}</p>
${services}`,
  });
}
