import type { FastifyReply, FastifyRequest } from 'fastify';
import { html, type Html } from '../../../platform/ui/html.ts';
import type { UiContext } from '../../../platform/ui/context.ts';
import { forbiddenPage } from '../../../platform/ui/layout.ts';
import type { ServiceContext } from '../../../platform/ui/service-context.ts';
import { servicePath } from '../../../platform/ui/service-layout.ts';
import type { Suppression } from '../../repositories/suppressions.ts';
import { type Filter, SEARCH_MAX, entryQuery } from './forms.ts';
export function forbidden(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply
    .code(403)
    .type('text/html; charset=utf-8')
    .send(String(forbiddenPage(request.ui)));
}

export function filterForm(ui: UiContext, service: ServiceContext, filter: Filter): Html {
  const { t } = ui;
  const option = (value: string, label: string) =>
    html`<option value="${value}"${value === (filter.channel ?? '') ? ' selected' : ''}>${label}</option>`;
  return html`<form method="get" action="${servicePath(service, '/suppressions')}" class="filters" role="search" aria-label="${t('suppressions.filterLabel')}">
  <div class="field">
    <label for="search">${t('suppressions.search.label')}</label>
    <span class="hint" id="search-hint">${t('suppressions.search.hint')}</span>
    <input type="search" id="search" name="search" value="${filter.search}" aria-describedby="search-hint" maxlength="${SEARCH_MAX}" spellcheck="false">
  </div>
  <div class="field">
    <label for="channel">${t('suppressions.channel')}</label>
    <select id="channel" name="channel">
      ${option('', t('suppressions.channel.all'))}
      ${option('email', t('suppressions.channel.email'))}
      ${option('sms', t('suppressions.channel.sms'))}
    </select>
  </div>
  <div class="field"><button type="submit">${t('suppressions.apply')}</button></div>
</form>`;
}

export function entryRow(ui: UiContext, service: ServiceContext, s: Suppression, mayRemove: boolean): Html {
  const { t } = ui;
  return html`<tr>
  <td>${s.recipient}</td>
  <td>${t(`suppressions.channel.${s.channel}`)}</td>
  <td>${t(`suppressions.reason.${s.reason}`)}</td>
  <td>${ui.formatDateTime(s.createdAt)}</td>
  <td>${
    s.notificationId
      ? html`<a href="${servicePath(service, `/notifications/${s.notificationId}`)}">${t('suppressions.viewMessage')}<span class="visually-hidden"> ${t('suppressions.to', { recipient: s.recipient })}</span></a>`
      : t('suppressions.notKnown')
  }</td>
  ${mayRemove && html`<td><a class="button secondary" href="${servicePath(service, `/suppressions/remove${entryQuery(s)}`)}">${t('suppressions.remove')}<span class="visually-hidden"> ${s.recipient}</span></a></td>`}
</tr>`;
}
