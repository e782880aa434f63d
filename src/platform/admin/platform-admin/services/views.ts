/** One go-live request as the platform admin reviews it. */
import { html } from '../../../ui/html.ts';
import { csrfField, type FieldError } from '../../../ui/layout.ts';
import type { UiContext } from '../../../ui/context.ts';
import type { GoLiveRequest } from '../../../services/services.ts';
export function requestSection(ui: UiContext, r: GoLiveRequest, v: { reason?: string; errors?: FieldError[] }) {
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
