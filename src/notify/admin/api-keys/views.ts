import { html, type Html } from '../../../platform/ui/html.ts';
import type { UiContext } from '../../../platform/ui/context.ts';
import { csrfField, errorSummary, radios, textInput, type FieldError } from '../../../platform/ui/layout.ts';
import type { ServiceContext } from '../../../platform/ui/service-context.ts';
import { servicePath } from '../../../platform/ui/service-layout.ts';
import type { KeyType } from '../../vocabulary.ts';
import { KEY_TYPES, type ApiKeyView, type ApiRequestView } from '../../settings/api-keys.ts';
export function keysTable(ui: UiContext, service: ServiceContext, keys: ApiKeyView[]): Html {
  const { t } = ui;
  return html`<table class="api-keys">
  <caption class="visually-hidden">${t('api.keys.title')}</caption>
  <thead><tr><th scope="col">${t('api.keys.name')}</th><th scope="col">${t('api.keys.type')}</th><th scope="col">${t('api.keys.created')}</th><th scope="col">${t('api.keys.state')}</th></tr></thead>
  <tbody>${keys.map(
    (k) => html`<tr>
    <td>${k.name}</td>
    <td>${t(`api.keyType.${k.keyType}`)}</td>
    <td>${ui.formatDateTime(k.createdAt)}</td>
    <td>${
      k.revokedAt
        ? t('api.keys.revokedAt', { time: ui.formatDateTime(k.revokedAt) })
        : html`<a href="${servicePath(service, `/api/keys/${k.id}/revoke`)}">${t('api.keys.revoke')}<span class="visually-hidden"> ${k.name}</span></a>`
    }</td>
  </tr>`,
  )}</tbody>
</table>`;
}

export function requestsTable(ui: UiContext, requests: ApiRequestView[], failuresOnly: boolean): Html {
  const { t } = ui;
  return html`<table class="api-requests">
  <caption class="visually-hidden">${failuresOnly ? t('api.requests.failuresCaption') : t('api.requests.title')}</caption>
  <thead><tr><th scope="col">${t('api.requests.time')}</th><th scope="col">${t('api.requests.request')}</th><th scope="col">${t('api.requests.status')}</th><th scope="col">${t('api.requests.key')}</th></tr></thead>
  <tbody>${requests.map((r) => {
    const failed = r.statusCode >= 400;
    return html`<tr class="${failed ? 'failed' : ''}">
    <td>${ui.formatDateTime(r.at)}</td>
    <td><code>${r.method} ${r.path}</code></td>
    <td>${failed ? html`<strong>${t('api.requests.failed', { status: r.statusCode })}</strong>` : t('api.requests.ok', { status: r.statusCode })}</td>
    <td>${r.keyName ?? t('api.requests.unknownKey')}</td>
  </tr>`;
  })}</tbody>
</table>`;
}

interface CreateFormValues {
  name?: string;
  keyType?: KeyType;
  errors?: FieldError[];
}

export function createForm(ui: UiContext, service: ServiceContext, v: CreateFormValues): Html {
  const { t } = ui;
  return html`${errorSummary(ui, v.errors)}
<h1>${t('api.create.title')}</h1>
<form method="post" action="${servicePath(service, '/api/keys')}" novalidate>
  ${csrfField(ui)}
  ${textInput({ id: 'name', label: t('api.create.name.label'), hint: t('api.create.name.hint'), value: v.name, errors: v.errors })}
  ${radios({
    id: 'key_type',
    name: 'key_type',
    legend: t('api.create.type.legend'),
    value: v.keyType,
    errors: v.errors,
    options: KEY_TYPES.map((k) => ({ value: k, label: t(`api.keyType.${k}`), hint: t(`api.keyType.${k}.hint`) })),
  })}
  <button type="submit">${t('api.create.submit')}</button>
</form>`;
}
