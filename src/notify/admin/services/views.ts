/** The new-service form. */
import type { FastifyReply } from 'fastify';
import { html } from '../../../platform/ui/html.ts';
import { csrfField, errorSummary, sendPage, textInput, type FieldError } from '../../../platform/ui/layout.ts';
import type { UiContext } from '../../../platform/ui/context.ts';

export function newServicePage(
  reply: FastifyReply,
  ui: UiContext,
  v: { name?: string; localPart?: string; errors?: FieldError[] },
  status = 200,
) {
  const { t } = ui;
  return sendPage(
    reply,
    ui,
    {
      title: t('services.new.title'),
      errors: v.errors,
      body: html`${errorSummary(ui, v.errors)}
<h1>${t('services.new.title')}</h1>
<p>${t('services.new.intro')}</p>
<form method="post" action="/services/new" novalidate>
  ${csrfField(ui)}
  ${textInput({ id: 'name', label: t('services.field.name'), hint: t('services.field.nameHint'), value: v.name, errors: v.errors })}
  ${textInput({ id: 'email_sender', label: t('services.field.localPart'), hint: t('services.field.localPartHint'), value: v.localPart, errors: v.errors })}
  <button type="submit">${t('services.new.submit')}</button>
</form>`,
    },
    status,
  );
}
