/** The platform admin's pages about services: all of them, one of them, and the requests to go live. */
import type { FastifyReply } from 'fastify';
import { html } from '../../../platform/ui/html.ts';
import { csrfField, errorSummary, notice, sendPage, textInput, type FieldError } from '../../../platform/ui/layout.ts';
import type { UiContext } from '../../../platform/ui/context.ts';
import type { DailyLimitsInput } from '../../settings/daily-limits.ts';
import type { GoLiveRequest } from '../../settings/go-live.ts';
import type { ServiceSettings } from '../../settings/service-settings.ts';
import type { ServiceVolumes } from '../../settings/service-volumes.ts';

/** Every service with what it sent in the last 7 days, its mode and state. */
export function allServicesPage(reply: FastifyReply, ui: UiContext, services: ServiceVolumes[]) {
  const { t } = ui;
  return sendPage(reply, ui, {
    title: t('platformServices.title'),
    body: html`<h1>${t('platformServices.title')}</h1>
<p><a href="/platform-admin/live-requests">${t('platformServices.requests.title')}</a></p>
${
  services.length === 0
    ? html`<p>${t('platformServices.none')}</p>`
    : html`<table>
  <caption>${t('platformServices.caption')}</caption>
  <thead><tr><th scope="col">${t('services.field.name')}</th><th scope="col">${t('platformServices.mode')}</th><th scope="col">${t('platformServices.state')}</th><th scope="col" class="numeric">${t('platformServices.emails7')}</th><th scope="col" class="numeric">${t('platformServices.sms7')}</th></tr></thead>
  <tbody>${services.map(
    (s) => html`<tr>
    <td><a href="/platform-admin/services/${s.id}">${s.name}</a></td>
    <td>${t(s.restricted ? 'services.mode.trial' : 'services.mode.live')}${s.goLiveRequested && html` <span class="muted">(${t('platformServices.requested')})</span>`}</td>
    <td>${t(s.active ? 'platformServices.active' : 'services.mode.suspended')}</td>
    <td class="numeric">${ui.formatNumber(s.email)}</td>
    <td class="numeric">${ui.formatNumber(s.sms)}</td>
  </tr>`,
  )}</tbody>
</table>`
}`,
  });
}

/** One service: its mode and state, its pending request to go live, its daily limits, suspending or restoring it. */
export function servicePage(
  reply: FastifyReply,
  ui: UiContext,
  s: ServiceSettings,
  latest: GoLiveRequest | null,
  v: { limits?: DailyLimitsInput; reason?: string; errors?: FieldError[]; done?: string },
  status = 200,
) {
  const { t } = ui;
  const limits = v.limits ?? {
    email: String(s.limits.email),
    sms: String(s.limits.sms),
    internationalSms: String(s.limits.internationalSms),
  };
  const base = `/platform-admin/services/${s.id}`;
  return sendPage(
    reply,
    ui,
    {
      title: s.name,
      errors: v.errors,
      body: html`${errorSummary(ui, v.errors)}${v.done && notice(html`<p>${t(`platformServices.done.${v.done}`)}</p>`, 'success')}
<h1>${s.name}</h1>
<dl class="summary-list">
  <dt>${t('platformServices.mode')}</dt><dd>${t(s.restricted ? 'services.mode.trial' : 'services.mode.live')}${s.goLiveAt && html` (${ui.formatDateTime(s.goLiveAt)})`}</dd>
  <dt>${t('platformServices.state')}</dt><dd>${s.active ? t('platformServices.active') : html`${t('services.mode.suspended')}${s.suspendedAt && html` (${ui.formatDateTime(s.suspendedAt)})`}`}</dd>
</dl>
<p><a href="/services/${s.id}/settings">${t('platformServices.openSettings')}</a> · <a href="/services/${s.id}/team">${t('platformServices.openTeam')}</a></p>
${latest?.state === 'pending' && requestSection(ui, latest, v)}
<h2>${t('platformServices.limits.title')}</h2>
<form method="post" action="${base}/limits" novalidate>${csrfField(ui)}
  ${textInput({ id: 'email', label: t('settings.limits.email'), value: limits.email, inputmode: 'numeric', className: 'short', errors: v.errors })}
  ${textInput({ id: 'sms', label: t('settings.limits.sms'), value: limits.sms, inputmode: 'numeric', className: 'short', errors: v.errors })}
  ${textInput({ id: 'international_sms', label: t('settings.limits.internationalSms'), value: limits.internationalSms, inputmode: 'numeric', className: 'short', errors: v.errors })}
  <button type="submit">${t('platformServices.limits.save')}</button>
</form>
<h2>${s.active ? t('platformServices.suspend.title') : t('platformServices.restore.title')}</h2>
<p>${s.active ? t('platformServices.suspend.intro') : t('platformServices.restore.intro')}</p>
<form method="post" action="${base}/${s.active ? 'suspend' : 'restore'}">${csrfField(ui)}
  <button type="submit" class="${s.active ? 'danger' : ''}">${s.active ? t('platformServices.suspend.submit') : t('platformServices.restore.submit')}</button>
</form>`,
    },
    status,
  );
}

/** The requests to go live waiting for a decision. */
export function liveRequestsPage(reply: FastifyReply, ui: UiContext, requests: GoLiveRequest[], done?: string) {
  const { t } = ui;
  return sendPage(reply, ui, {
    title: t('platformServices.requests.title'),
    body: html`${done && notice(html`<p>${t(`platformServices.done.${done}`)}</p>`, 'success')}
<h1>${t('platformServices.requests.title')}</h1>
${
  requests.length === 0
    ? html`<p>${t('platformServices.requests.none')}</p>`
    : html`<table>
  <caption class="visually-hidden">${t('platformServices.requests.title')}</caption>
  <thead><tr><th scope="col">${t('services.field.name')}</th><th scope="col">${t('platformServices.requests.by')}</th><th scope="col">${t('platformServices.requests.when')}</th></tr></thead>
  <tbody>${requests.map(
    (r) =>
      html`<tr><td><a href="/platform-admin/services/${r.serviceId}">${r.serviceName}</a></td><td>${r.requestedBy?.email ?? '–'}</td><td>${ui.formatDateTime(r.createdAt)}</td></tr>`,
  )}</tbody>
</table>`
}`,
  });
}

/** One go-live request as the platform admin reviews it. */
function requestSection(ui: UiContext, r: GoLiveRequest, v: { reason?: string; errors?: FieldError[] }) {
  const { t } = ui;
  const error = v.errors?.find((e) => e.field === 'reason');
  return html`<h2>${t('platformServices.request.title')}</h2>
<dl class="summary-list">
  <dt>${t('platformServices.requests.by')}</dt><dd>${r.requestedBy ? `${r.requestedBy.name} (${r.requestedBy.email})` : '–'}</dd>
  <dt>${t('platformServices.requests.when')}</dt><dd>${ui.formatDateTime(r.createdAt)}</dd>
  <dt>${t('settings.goLive.mainUse')}</dt><dd>${r.mainUse}</dd>
  <dt>${t('settings.goLive.expectedEmail')}</dt><dd>${ui.formatNumber(r.expectedDailyEmail)}</dd>
  <dt>${t('settings.goLive.expectedSms')}</dt><dd>${ui.formatNumber(r.expectedDailySms)}</dd>
</dl>
<form method="post" action="/platform-admin/live-requests/${r.id}/approve">${csrfField(ui)}<button type="submit">${t('platformServices.request.approve')}</button></form>
<form method="post" action="/platform-admin/live-requests/${r.id}/decline" novalidate>${csrfField(ui)}
  <div class="field${error ? ' has-error' : ''}">
    <label for="reason">${t('platformServices.request.reason')}</label>
    <span class="hint" id="reason-hint">${t('platformServices.request.reasonHint')}</span>
    ${error && html`<span class="error-message" id="reason-error">${error.message}</span>`}
    <textarea id="reason" name="reason" rows="3" aria-describedby="reason-hint${error ? ' reason-error' : ''}">${v.reason ?? ''}</textarea>
  </div>
  <button type="submit" class="secondary">${t('platformServices.request.decline')}</button>
</form>`;
}
