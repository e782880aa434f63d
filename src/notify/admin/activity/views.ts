import { html, type Html } from '../../../platform/ui/html.ts';
import type { UiContext } from '../../../platform/ui/context.ts';
import type { ServiceContext } from '../../../platform/ui/service-context.ts';
import { servicePath } from '../../../platform/ui/service-layout.ts';
import {
  STATUS_GROUP_NAMES,
  statusGroupOf,
  type ActivityFilter,
  type ActivityRow,
  type StatusGroup,
} from '../../reporting/activity.ts';
import { SEARCH_MAX } from './forms.ts';
export function statusLabel(ui: UiContext, status: string): string {
  const key = `activity.status.${status}`;
  const label = ui.t(key);
  return label === key ? status : label;
}

/** When the message reached its final status, if it has. */
export function completedAt(row: ActivityRow): Date | null {
  return statusGroupOf(row.status) === 'in-transit' ? null : (row.updatedAt ?? row.sentAt);
}

export function filterForm(ui: UiContext, service: ServiceContext, filter: ActivityFilter): Html {
  const { t } = ui;
  const option = (value: string, label: string, current: string | undefined) =>
    html`<option value="${value}"${value === (current ?? '') ? ' selected' : ''}>${label}</option>`;
  return html`<form method="get" action="${servicePath(service, '/activity')}" class="filters" role="search" aria-label="${t('activity.filterLabel')}">
  <div class="field">
    <label for="search">${t('activity.search.label')}</label>
    <span class="hint" id="search-hint">${t('activity.search.hint')}</span>
    <input type="search" id="search" name="search" value="${filter.search ?? ''}" aria-describedby="search-hint" maxlength="${SEARCH_MAX}" spellcheck="false">
  </div>
  <div class="field">
    <label for="channel">${t('activity.channel')}</label>
    <select id="channel" name="channel">
      ${option('', t('activity.channel.all'), filter.channel)}
      ${option('email', t('activity.channel.email'), filter.channel)}
      ${option('sms', t('activity.channel.sms'), filter.channel)}
    </select>
  </div>
  <div class="field">
    <label for="status">${t('activity.status')}</label>
    <select id="status" name="status">
      ${option('', t('activity.statusGroup.all'), filter.statusGroup)}
      ${STATUS_GROUP_NAMES.map((g: StatusGroup) => option(g, t(`activity.statusGroup.${g}`), filter.statusGroup))}
    </select>
  </div>
  <div class="field"><button type="submit">${t('activity.apply')}</button></div>
</form>`;
}

export function resultRow(ui: UiContext, service: ServiceContext, r: ActivityRow): Html {
  const { t } = ui;
  const group = statusGroupOf(r.status);
  return html`<tr class="${group === 'failed' ? 'failed' : ''}">
  <td><a href="${servicePath(service, `/notifications/${r.id}`)}">${r.to}</a>${r.reference && html`<br><span class="muted">${t('activity.reference', { reference: r.reference })}</span>`}</td>
  <td>${r.templateName ?? ''}</td>
  <td>${t(`activity.channel.${r.type}`)}</td>
  <td><span class="status status-${group}">${statusLabel(ui, r.status)}</span></td>
  <td>${ui.formatDateTime(r.createdAt)}</td>
</tr>`;
}
