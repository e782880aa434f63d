/**
 * What happened to what was sent from the web UI (or anywhere): one message's page, with its status in plain words
 * and its timeline (created, sent, delivered or failed), and a spreadsheet job's page with its progress. Both
 * refresh with a link, or by themselves with template-editor.js while the outcome is not final. Seen by members
 * who may send or view activity.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AdminDeps } from '../../platform/ui/admin-deps.ts';
import type { UiContext } from '../../platform/ui/context.ts';
import { html, type Html } from '../../platform/ui/html.ts';
import { csrfField, forbiddenPage, notice } from '../../platform/ui/layout.ts';
import { requireService, type ServiceContext } from '../../platform/ui/service-context.ts';
import { sendServicePage, servicePath } from '../../platform/ui/service-layout.ts';
import { isUuid } from '../templates/templates.ts';
import { SendRefused } from '../sending/refusals.ts';
import type { JobCounts, JobView } from '../jobs/jobs.ts';
import { renderEmailDocument, renderEmailHtml } from '../template-language/index.ts';
import { emailBranding, loadBranding, logoDataUrl } from '../settings/email-branding.ts';
import { EMAIL_FRAME_ROUTE, emailFrame, pageAssets, phonePreview } from './templates/views.ts';

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
const NOTICES = ['sent', 'started', 'scheduled', 'cancelled'] as const;
/** Job statuses after which none of the job's rows that are not yet notifications will ever be. */
const JOB_ENDED_UNSENT = new Set<JobView['status']>(['cancelled', 'error']);

export function statusLabel(ui: UiContext, status: string): string {
  return ui.t(`send.status.${KNOWN_STATUSES.has(status) ? status : 'failed'}`);
}

export async function messageRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const { services } = deps;
  const db = services.database.db;
  const member = { preHandler: requireService(db) };
  const sender = { preHandler: requireService(db, 'send_messages') };

  /** Those who send see what they sent; those who view activity see everything. */
  function maySee(request: FastifyRequest, reply: FastifyReply): boolean {
    const { permissions } = request.service;
    if (permissions.has('send_messages') || permissions.has('view_activity')) return true;
    reply
      .code(403)
      .type('text/html; charset=utf-8')
      .send(String(forbiddenPage(request.ui)));
    return false;
  }

  function notFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
    const { t } = request.ui;
    return sendServicePage(
      reply,
      request.ui,
      request.service,
      'templates',
      { title: t('notFound.title'), body: html`<h1>${t('notFound.title')}</h1><p>${t('notFound.body')}</p>` },
      404,
    );
  }

  async function loadNotification(serviceId: string, id: string) {
    if (!isUuid(id)) return null;
    return (
      (await db
        .selectFrom('notifications as n')
        .leftJoin('templates as t', (join) =>
          join.onRef('t.id', '=', 'n.template_id').onRef('t.service_id', '=', 'n.service_id'),
        )
        .leftJoin('users as u', 'u.id', 'n.created_by_id')
        .select([
          'n.id',
          'n.notification_type',
          'n.to',
          'n.status',
          'n.subject',
          'n.body',
          'n.template_id',
          'n.template_version',
          'n.personalisation',
          'n.created_at',
          'n.sent_at',
          'n.updated_at',
          'n.scheduled_for',
          'n.job_id',
          'n.reply_to_text',
          't.name as template_name',
          'u.name as sent_by',
        ])
        .where('n.service_id', '=', serviceId)
        .where('n.id', '=', id)
        .executeTakeFirst()) ?? null
    );
  }

  app.get<{ Params: { serviceId: string; notificationId: string }; Querystring: { notice?: string } }>(
    '/services/:serviceId/notifications/:notificationId',
    member,
    async (request, reply) => {
      if (!maySee(request, reply)) return reply;
      const { ui, service } = request;
      const { t } = ui;
      const n = await loadNotification(service.id, request.params.notificationId);
      if (!n) return notFound(request, reply);
      const final = FINAL_STATUSES.has(n.status);
      const shown = NOTICES.find((x) => x === request.query.notice);
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
      return sendServicePage(reply, ui, service, 'templates', { title, body });
    },
  );

  /** The email as it was sent (its template version and personalisation), for the frame on the message's page. */
  app.get<{ Params: { serviceId: string; notificationId: string } }>(
    '/services/:serviceId/notifications/:notificationId/email.html',
    { ...member, ...EMAIL_FRAME_ROUTE },
    async (request, reply) => {
      if (!maySee(request, reply)) return reply;
      const n = await loadNotification(request.service.id, request.params.notificationId);
      const version =
        n && n.notification_type === 'email'
          ? await db
              .selectFrom('template_history')
              .select('content')
              .where('service_id', '=', request.service.id)
              .where('id', '=', n.template_id)
              .where('version', '=', n.template_version)
              .executeTakeFirst()
          : undefined;
      if (!n || !version) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
      const personalisation = (
        typeof n.personalisation === 'string' ? JSON.parse(n.personalisation) : n.personalisation
      ) as Record<string, unknown> | null;
      const branding = emailBranding(await loadBranding(db, request.service.id), logoDataUrl);
      const document = renderEmailDocument({
        subject: n.subject ?? '',
        bodyHtml: renderEmailHtml(version.content, personalisation ?? {}),
        lang: 'en',
        branding,
      });
      return reply.type('text/html; charset=utf-8').send(document);
    },
  );

  // ---- jobs -------------------------------------------------------------------------------------------------

  async function loadJob(service: ServiceContext, id: string): Promise<JobView | null> {
    return isUuid(id) ? services.jobs.get(service.id, id) : null;
  }

  app.get<{ Params: { serviceId: string; jobId: string }; Querystring: { notice?: string } }>(
    '/services/:serviceId/jobs/:jobId',
    member,
    async (request, reply) => {
      if (!maySee(request, reply)) return reply;
      const { ui, service } = request;
      const { t } = ui;
      const job = await loadJob(service, request.params.jobId);
      if (!job) return notFound(request, reply);
      const counts = await services.jobs.counts(job);
      const template = await db
        .selectFrom('templates')
        .select(['name', 'archived', 'hidden'])
        .where('service_id', '=', service.id)
        .where('id', '=', job.templateId)
        .executeTakeFirst();
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
      const shown = NOTICES.find((x) => x === request.query.notice);
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
      return sendServicePage(reply, ui, service, 'templates', { title, body });
    },
  );

  app.post<{ Params: { serviceId: string; jobId: string } }>(
    '/services/:serviceId/jobs/:jobId/cancel',
    sender,
    async (request, reply) => {
      const { service } = request;
      const job = await loadJob(service, request.params.jobId);
      if (!job) return notFound(request, reply);
      try {
        await services.jobs.cancel(service.id, job.id);
      } catch (err) {
        // Started (or gone) meanwhile: the page shows where it is.
        if (!(err instanceof SendRefused)) throw err;
        return reply.redirect(servicePath(service, `/jobs/${job.id}`), 303);
      }
      return reply.redirect(servicePath(service, `/jobs/${job.id}?notice=cancelled`), 303);
    },
  );
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
