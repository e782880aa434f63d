import { html, type Html } from '../../../platform/ui/html.ts';
import type { UiContext } from '../../../platform/ui/context.ts';
import type { ServiceContext } from '../../../platform/ui/service-context.ts';
import { servicePath } from '../../../platform/ui/service-layout.ts';
import type { OutboxSummary } from '../../delivery/outbox.ts';

export function emailEntry(ui: UiContext, service: ServiceContext, r: OutboxSummary): Html {
  const { t } = ui;
  return html`<article class="outbox-email" aria-labelledby="outbox-${r.id}">
  <h2 id="outbox-${r.id}">${r.subject || t('outbox.noSubject')}</h2>
  <dl class="summary-list">
    <dt>${t('outbox.to')}</dt><dd>${r.recipient}</dd>
    ${r.sender && html`<dt>${t('outbox.from')}</dt><dd>${r.sender}</dd>`}
    <dt>${t('outbox.sentAt')}</dt><dd>${ui.formatDateTime(r.createdAt)}</dd>
  </dl>
  <iframe class="email-frame" src="${servicePath(service, `/outbox/${r.id}/email`)}" sandbox="" loading="lazy" referrerpolicy="no-referrer" title="${t('outbox.emailFrameTitle', { subject: r.subject ?? '', to: r.recipient })}"></iframe>
  <p><a href="${servicePath(service, `/notifications/${r.notificationId}`)}">${t('outbox.message')}<span class="visually-hidden"> ${r.subject ?? ''}</span></a></p>
</article>`;
}

export function textEntry(ui: UiContext, service: ServiceContext, r: OutboxSummary): Html {
  const { t } = ui;
  return html`<article class="outbox-text" aria-labelledby="outbox-${r.id}">
  <h2 id="outbox-${r.id}">${t('outbox.textTo', { to: r.recipient })}</h2>
  <p class="muted">${ui.formatDateTime(r.createdAt)}</p>
  <div class="phone">
    <p class="phone-sender">${r.sender ?? t('outbox.defaultSender')}</p>
    <div class="bubble">${r.body}</div>
  </div>
  <p><a href="${servicePath(service, `/notifications/${r.notificationId}`)}">${t('outbox.message')}<span class="visually-hidden"> ${t('outbox.textTo', { to: r.recipient })}</span></a></p>
</article>`;
}
