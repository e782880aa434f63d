/** The pages of one message and of one spreadsheet job: their status in plain words, timeline and progress. */
import type { UiContext } from '../../../platform/ui/context.ts';
import { html, type Html } from '../../../platform/ui/html.ts';
import { csrfField, notice } from '../../../platform/ui/layout.ts';
import type { ServiceContext } from '../../../platform/ui/service-context.ts';
import { servicePath } from '../../../platform/ui/service-layout.ts';
import type { JobCounts, JobView } from '../../jobs/jobs.ts';
import type { NotificationWithNames } from '../../repositories/notifications.ts';
import { emailFrame, pageAssets, phonePreview } from '../templates/views.ts';

/** Statuses after which nothing more happens to a message. */
const FINAL_STATUSES = new Set([
  'sent',
  'delivered',
  'permanent-failure',
  'temporary-failure',
  'technical-failure',
  'cancelled',
  'failed',
  'validation-failed',
  'virus-scan-failed',
]);
const DELIVERED = new Set(['sent', 'delivered']);
/** Statuses that have words of their own; others read as "not sent". */
const KNOWN_STATUSES = new Set([
  'created',
  'sending',
  'pending',
  'sent',
  'delivered',
  'permanent-failure',
  'temporary-failure',
  'technical-failure',
  'cancelled',
]);
export const NOTICES = ['sent', 'started', 'scheduled', 'cancelled'] as const;
export type Notice = (typeof NOTICES)[number];
/** Job statuses after which none of the job's rows that are not yet notifications will ever be. */
const JOB_ENDED_UNSENT = new Set<JobView['status']>(['cancelled', 'error']);

function statusLabel(ui: UiContext, status: string): string {
  return ui.t(`send.status.${KNOWN_STATUSES.has(status) ? status : 'failed'}`);
}

/** One message's page: what was sent, by whom, its status and timeline, and its content. */
export function messagePage(
  ui: UiContext,
  service: ServiceContext,
  n: NotificationWithNames,
  shown: Notice | undefined,
): { title: string; body: Html } {
  const { t } = ui;
  const final = FINAL_STATUSES.has(n.status);
  const title = t(n.notification_type === 'email' ? 'send.message.titleEmail' : 'send.message.titleSms', {
    recipient: n.to,
  });
  const self = servicePath(service, `/notifications/${n.id}`);
  const body = html`${pageAssets()}
<h1>${title}</h1>
${shown && notice(t(`send.notice.${shown}`), 'success')}
<dl class="summary-list">
  <dt>${t('send.message.template')}</dt><dd>${n.template_name ? html`<a href="${servicePath(service, `/templates/${n.template_id}`)}">${n.template_name}</a>` : ''} <span class="muted">${t('templates.versions.label', { version: n.template_version })}</span></dd>
  ${n.sent_by && html`<dt>${t('send.message.sentBy')}</dt><dd>${n.sent_by}</dd>`}
  ${n.notification_type === 'email' && n.reply_to_text && html`<dt>${t('send.message.replyTo')}</dt><dd>${n.reply_to_text}</dd>`}
  ${n.job_id && html`<dt>${t('send.message.job')}</dt><dd><a href="${servicePath(service, `/jobs/${n.job_id}`)}">${t('send.message.jobLink')}</a></dd>`}
</dl>
<div class="status-panel" data-poll="${final ? 'done' : 'live'}" id="status-panel">
  <h2>${t('send.message.status')}</h2>
  <p class="status status-${DELIVERED.has(n.status) ? 'delivered' : final ? 'failed' : 'waiting'}" id="message-status">${statusLabel(ui, n.status)}</p>
  <p class="hint">${t(`send.statusHint.${KNOWN_STATUSES.has(n.status) ? n.status : 'failed'}`)}</p>
  <h3>${t('send.message.timeline')}</h3>
  <ol class="timeline">
    <li>${t('send.timeline.created', { date: ui.formatDateTime(n.created_at) })}</li>
    ${n.scheduled_for && html`<li>${t('send.timeline.scheduled', { date: ui.formatDateTime(n.scheduled_for) })}</li>`}
    ${n.sent_at && html`<li>${t('send.timeline.sent', { date: ui.formatDateTime(n.sent_at) })}</li>`}
    ${
      final &&
      html`<li>${t(DELIVERED.has(n.status) ? 'send.timeline.delivered' : 'send.timeline.failed', { date: ui.formatDateTime(n.updated_at ?? n.sent_at ?? n.created_at), status: statusLabel(ui, n.status) })}</li>`
    }
  </ol>
  ${!final && html`<p><a href="${self}">${t('send.message.refresh')}</a></p>`}
</div>
<h2>${t('send.message.content')}</h2>
${
  n.notification_type === 'email'
    ? html`<dl class="summary-list"><dt>${t('templates.field.subject.label')}</dt><dd>${n.subject ?? ''}</dd></dl>
${emailFrame(ui, `${self}/email.html`, n.subject ?? '')}`
    : phonePreview(ui, n.body, n.reply_to_text ?? service.name)
}`;
  return { title, body };
}

/** One spreadsheet job's page: its template, who started it, when, and its progress. */
export function jobPage(
  ui: UiContext,
  service: ServiceContext,
  job: JobView,
  counts: JobCounts,
  template: { name: string; archived: boolean; hidden: boolean } | undefined,
  shown: Notice | undefined,
): { title: string; body: Html } {
  const { t } = ui;
  const ended = JOB_ENDED_UNSENT.has(job.status);
  const done = ended || (job.status === 'finished' && counts.queued + counts.sending + counts.notQueued === 0);
  // Where sending the same list again starts, for someone who may send with a template still in use.
  const uploadAgain =
    job.status === 'error' &&
    template &&
    !template.archived &&
    !template.hidden &&
    service.permissions.has('send_messages')
      ? servicePath(service, `/send/${job.templateId}/upload`)
      : null;
  const self = servicePath(service, `/jobs/${job.id}`);
  const title = t('send.job.title', { file: job.name });
  const body = html`${pageAssets()}
<h1>${title}</h1>
${shown && notice(t(`send.notice.${shown}`), 'success')}
<dl class="summary-list">
  <dt>${t('send.message.template')}</dt><dd>${template ? html`<a href="${servicePath(service, `/templates/${job.templateId}`)}">${template.name}</a>` : ''}</dd>
  ${job.createdBy && html`<dt>${t('send.message.sentBy')}</dt><dd>${job.createdBy.name}</dd>`}
  <dt>${t('send.job.created')}</dt><dd>${ui.formatDateTime(job.createdAt)}</dd>
  ${job.scheduledFor && html`<dt>${t('send.job.scheduledFor')}</dt><dd>${ui.formatDateTime(job.scheduledFor)}</dd>`}
</dl>
<div class="status-panel" data-poll="${done ? 'done' : 'live'}" id="status-panel">
  <h2>${t('send.job.progress')}</h2>
  <p class="status${job.status === 'error' ? ' status-failed' : ''}" id="job-status">${t(`send.job.status.${job.status.replace(' ', '-')}`)}</p>
  ${
    job.status === 'error' &&
    html`<p id="job-error">${t('send.job.error.body')}</p>
  <p>${t('send.job.error.next')}</p>
  ${uploadAgain && html`<p><a href="${uploadAgain}">${t('send.job.error.uploadAgain')}</a></p>`}`
  }
  ${jobCountsTable(ui, counts, ended)}
  ${!done && html`<p><a href="${self}">${t('send.message.refresh')}</a></p>`}
</div>
${
  (job.status === 'scheduled' || job.status === 'pending') &&
  service.permissions.has('send_messages') &&
  html`<form method="post" action="${self}/cancel">${csrfField(ui)}<button type="submit" class="secondary">${t('send.job.cancel')}</button></form>`
}`;
  return { title, body };
}

/** `ended`: the job stopped before queueing its rows (cancelled, error), so those rows are not sent rather than waiting. */
function jobCountsTable(ui: UiContext, counts: JobCounts, ended: boolean): Html {
  const { t } = ui;
  const row = (key: string, n: number) =>
    html`<tr><th scope="row">${t(`send.job.count.${key}`)}</th><td>${ui.formatNumber(n)}</td></tr>`;
  return html`<table class="job-counts">
  <caption>${t('send.job.countsCaption')}</caption>
  <thead><tr><th scope="col">${t('send.job.count.state')}</th><th scope="col">${t('send.job.count.messages')}</th></tr></thead>
  <tbody>
    ${row('rows', counts.rows)}
    ${row('waiting', ended ? counts.queued : counts.notQueued + counts.queued)}
    ${row('sending', counts.sending)}
    ${row('delivered', counts.delivered)}
    ${row('failed', counts.failed)}
    ${ended && row('notSent', counts.notQueued)}
  </tbody>
</table>`;
}
