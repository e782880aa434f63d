/** The guest list's pages: its summary on the team page, and the list with adding someone to it. */
import type { FastifyReply } from 'fastify';
import { html, type Html } from '../../../platform/ui/html.ts';
import { csrfField, errorSummary, notice, textInput, type FieldError } from '../../../platform/ui/layout.ts';
import type { UiContext } from '../../../platform/ui/context.ts';
import type { ServiceContext } from '../../../platform/ui/service-context.ts';
import { sendServicePage } from '../../../platform/ui/service-layout.ts';
import { teamPath as path } from '../../../platform/admin/team/scope.ts';
import type { Guest } from '../../settings/guest-list.ts';

/** On the team page: how many guests the service has, and the way to their list. */
export function guestListSummary(ui: UiContext, service: ServiceContext, guests: Guest[]): Html {
  const { t } = ui;
  const canManage = service.permissions.has('manage_service');
  return html`
<h2>${t('team.guests.title')}</h2>
<p>${t('team.guests.intro')}</p>
<p>${t('team.guests.count', { count: ui.formatNumber(guests.length) })} <a href="${path(service, '/guest-list')}">${canManage ? t('team.guests.manage') : t('team.guests.view')}</a></p>`;
}

/** The guest list, and adding someone to it. */
export function guestListPage(
  reply: FastifyReply,
  ui: UiContext,
  service: ServiceContext,
  guests: Guest[],
  v: { recipient?: string; errors?: FieldError[]; done?: string },
  status = 200,
) {
  const { t } = ui;
  const canManage = service.permissions.has('manage_service');
  return sendServicePage(
    reply,
    ui,
    service,
    'team',
    {
      title: t('team.guests.title'),
      errors: v.errors,
      body: html`${errorSummary(ui, v.errors)}${v.done && notice(html`<p>${t(`team.done.${v.done}`)}</p>`, 'success')}
<h1>${t('team.guests.title')}</h1>
<p>${t('team.guests.intro')}</p>
${
  guests.length === 0
    ? html`<p>${t('team.guests.empty')}</p>`
    : html`<table>
  <caption class="visually-hidden">${t('team.guests.title')}</caption>
  <thead><tr><th scope="col">${t('team.guests.recipient')}</th><th scope="col">${t('team.guests.type')}</th>${canManage && html`<th scope="col">${t('team.actions')}</th>`}</tr></thead>
  <tbody>${guests.map(
    (g) =>
      html`<tr><td>${g.recipient}</td><td>${t(`team.guests.type.${g.type}`)}</td>${
        canManage &&
        html`<td><form method="post" action="${path(service, `/guest-list/${g.id}/remove`)}">${csrfField(ui)}<button type="submit" class="secondary">${t('team.guests.remove')}<span class="visually-hidden"> ${g.recipient}</span></button></form></td>`
      }</tr>`,
  )}</tbody>
</table>`
}
${
  canManage &&
  html`<h2>${t('team.guests.addTitle')}</h2>
<form method="post" action="${path(service, '/guest-list')}" novalidate>
  ${csrfField(ui)}
  ${textInput({ id: 'recipient', label: t('team.guests.field'), hint: t('team.guests.fieldHint'), value: v.recipient, autocomplete: 'off', errors: v.errors })}
  <button type="submit">${t('team.guests.add')}</button>
</form>`
}
<p><a href="${path(service)}">${t('team.back')}</a></p>`,
    },
    status,
  );
}
