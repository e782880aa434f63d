/**
 * What happened to what was sent from the web UI (or anywhere): one message's page, with its status in plain words
 * and its timeline (created, sent, delivered or failed), and a spreadsheet job's page with its progress. Both
 * refresh with a link, or by themselves with template-editor.js while the outcome is not final. Seen by members
 * who may send or view activity.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { NotifyAdminDeps } from '../admin-deps.ts';
import { forbiddenPage } from '../../../platform/ui/layout.ts';
import { requireService, type ServiceContext } from '../../../platform/ui/service-context.ts';
import { sendServicePage, servicePath, sendServiceNotFound } from '../../../platform/ui/service-layout.ts';
import { isUuid } from '../../../platform/ids.ts';
import { SendRefused } from '../../sending/refusals.ts';
import type { JobView } from '../../jobs/jobs.ts';
import { renderEmailDocument, renderEmailHtml } from '../../template-language/index.ts';
import { emailBranding, loadBranding, logoDataUrl } from '../../settings/email-branding.ts';
import { findNotificationWithNames } from '../../repositories/notifications.ts';
import { findTemplateState, findTemplateVersionContent } from '../../repositories/templates.ts';
import { EMAIL_FRAME_ROUTE } from '../templates/views.ts';
import { jobPage, messagePage, NOTICES } from './views.ts';

type MessageParams = { serviceId: string; notificationId: string };
type JobParams = { serviceId: string; jobId: string };

export async function messageRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  await notificationRoutes(app, deps);
  await jobRoutes(app, deps);
}

/** What the message and job routes share: their guards, and their refusals. */
function messageScope(deps: NotifyAdminDeps) {
  const db = deps.services.database.db;
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

  const notFound = (request: FastifyRequest, reply: FastifyReply): FastifyReply =>
    sendServiceNotFound(reply, request.ui, request.service, 'templates');
  return { db, member, sender, maySee, notFound };
}

async function notificationRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  const { db, member, maySee, notFound } = messageScope(deps);
  const loadNotification = async (serviceId: string, id: string) =>
    isUuid(id) ? findNotificationWithNames(db, serviceId, id) : null;

  app.get<{ Params: MessageParams; Querystring: { notice?: string } }>(
    '/services/:serviceId/notifications/:notificationId',
    member,
    async (request, reply) => {
      if (!maySee(request, reply)) return reply;
      const { ui, service } = request;
      const n = await loadNotification(service.id, request.params.notificationId);
      if (!n) return notFound(request, reply);
      const shown = NOTICES.find((x) => x === request.query.notice);
      return sendServicePage(reply, ui, service, 'templates', messagePage(ui, service, n, shown));
    },
  );

  /** The email as it was sent (its template version and personalisation), for the frame on the message's page. */
  app.get<{ Params: MessageParams }>(
    '/services/:serviceId/notifications/:notificationId/email.html',
    { ...member, ...EMAIL_FRAME_ROUTE },
    async (request, reply) => {
      if (!maySee(request, reply)) return reply;
      const n = await loadNotification(request.service.id, request.params.notificationId);
      const version =
        n && n.notification_type === 'email'
          ? await findTemplateVersionContent(db, request.service.id, n.template_id, n.template_version)
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
}

async function jobRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  const { db, member, sender, maySee, notFound } = messageScope(deps);
  const { jobs } = deps.services;
  const loadJob = async (service: ServiceContext, id: string): Promise<JobView | null> =>
    isUuid(id) ? jobs.get(service.id, id) : null;

  app.get<{ Params: JobParams; Querystring: { notice?: string } }>(
    '/services/:serviceId/jobs/:jobId',
    member,
    async (request, reply) => {
      if (!maySee(request, reply)) return reply;
      const { ui, service } = request;
      const job = await loadJob(service, request.params.jobId);
      if (!job) return notFound(request, reply);
      const counts = await jobs.counts(job);
      const template = await findTemplateState(db, service.id, job.templateId);
      const shown = NOTICES.find((x) => x === request.query.notice);
      return sendServicePage(reply, ui, service, 'templates', jobPage(ui, service, job, counts, template, shown));
    },
  );

  app.post<{ Params: JobParams }>('/services/:serviceId/jobs/:jobId/cancel', sender, async (request, reply) => {
    const { service } = request;
    const job = await loadJob(service, request.params.jobId);
    if (!job) return notFound(request, reply);
    try {
      await jobs.cancel(service.id, job.id);
    } catch (err) {
      // Started (or gone) meanwhile: the page shows where it is.
      if (!(err instanceof SendRefused)) throw err;
      return reply.redirect(servicePath(service, `/jobs/${job.id}`), 303);
    }
    return reply.redirect(servicePath(service, `/jobs/${job.id}?notice=cancelled`), 303);
  });
}
