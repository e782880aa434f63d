/** What every send route shares: its guard, its limits, the template of the URL and the service's senders. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { NotifyAdminDeps } from '../admin-deps.ts';
import type { TemplateType } from '../../vocabulary.ts';
import { html } from '../../../platform/ui/html.ts';
import { requireService, type ServiceContext } from '../../../platform/ui/service-context.ts';
import { sendServicePage, sendServiceNotFound } from '../../../platform/ui/service-layout.ts';
import { listSenders } from '../../settings/senders.ts';
import type { TemplateDetail } from '../../templates/templates.ts';
import { templateOfUrl } from '../templates/scope.ts';

export type Form = Record<string, string | undefined>;
export type Params = { serviceId: string; templateId: string };
export type UploadParams = Params & { uploadId: string };

/** Largest spreadsheet the UI takes (the API's bulk endpoint has its own limit). */
export const UPLOAD_MAX_BYTES = 10 * 1024 * 1024;

export function sendScope(deps: NotifyAdminDeps) {
  const { services } = deps;
  const db = services.database.db;
  const { directory } = services;
  const sender = { preHandler: requireService(db, 'send_messages') };

  /** What the words of a refusal need from this page besides the refusal. */
  const situation = (template: TemplateDetail, limits: Record<TemplateType, number>) => ({
    templateType: template.type,
    dailyLimit: limits[template.type],
    siteRoot: `${deps.siteRoot()}/`,
  });

  const notFound = (request: FastifyRequest, reply: FastifyReply): FastifyReply =>
    sendServiceNotFound(reply, request.ui, request.service, 'templates');

  /** A template that can be sent, or a page saying why not (404, archived). */
  async function sendableTemplate(
    request: FastifyRequest<{ Params: Params }>,
    reply: FastifyReply,
  ): Promise<TemplateDetail | null> {
    const template = await templateOfUrl(db, request, reply);
    if (!template) return null;
    if (template.archived) {
      const { t } = request.ui;
      sendServicePage(
        reply,
        request.ui,
        request.service,
        'templates',
        {
          title: t('send.archived.title'),
          body: html`<h1>${t('send.archived.title')}</h1><p>${t('send.archived.body')}</p>`,
        },
        400,
      );
      return null;
    }
    return template;
  }

  /** The service's reply-to addresses or text senders for the template's channel, the default first. */
  const sendersFor = (service: ServiceContext, template: TemplateDetail) =>
    listSenders(db, template.type === 'email' ? 'email_reply_to' : 'sms_senders', service.id);

  return { services, db, directory, sender, situation, notFound, sendableTemplate, sendersFor };
}
