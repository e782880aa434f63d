/** `/services/:id/send/:templateId/upload`: a spreadsheet of recipients (CSV, TSV or XLSX), and an example of one. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { NotifyAdminDeps } from '../admin-deps.ts';
import { csvLine } from '../../../platform/csv-safety.ts';
import { html } from '../../../platform/ui/html.ts';
import { errorSummary } from '../../../platform/ui/layout.ts';
import type { MultipartForm } from '../../../platform/ui/multipart.ts';
import { sendServicePage, servicePath } from '../../../platform/ui/service-layout.ts';
import { deleteSendUploadsBefore, insertSendUpload } from '../../repositories/send-uploads.ts';
import { placeholderNames } from '../../template-language/index.ts';
import { readUploadedFile } from './forms.ts';
import { type Params, sendScope, UPLOAD_MAX_BYTES } from './scope.ts';
import { recipientColumn, templateLink, textsOf, uploadForm } from './views.ts';

/** Uploads not sent within a day are removed. */
const UPLOAD_KEPT_HOURS = 24;

export async function uploadRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  const { db, sender, sendableTemplate } = sendScope(deps);

  app.get<{ Params: Params }>('/services/:serviceId/send/:templateId/upload', sender, async (request, reply) => {
    const { ui, service } = request;
    const template = await sendableTemplate(request, reply);
    if (!template) return reply;
    const title = ui.t('send.upload.title', { name: template.name });
    const body = html`${templateLink(ui, service, template)}
<h1>${title}</h1>
${uploadForm(ui, service, template)}`;
    return sendServicePage(reply, ui, service, 'templates', { title, body });
  });

  app.get<{ Params: Params }>('/services/:serviceId/send/:templateId/example.csv', sender, async (request, reply) => {
    const { ui } = request;
    const template = await sendableTemplate(request, reply);
    if (!template) return reply;
    const names = placeholderNames(...textsOf(template));
    const own = template.type === 'email' ? ui.account!.email : (ui.account!.mobileNumber ?? '');
    const text = csvLine([recipientColumn(ui, template), ...names]) + csvLine([own, ...names.map(() => '')]);
    return reply
      .header(
        'content-disposition',
        `attachment; filename="${template.type === 'email' ? 'email' : 'sms'}-example.csv"`,
      )
      .type('text/csv; charset=utf-8')
      .send(text);
  });

  app.post<{ Params: Params; Body: MultipartForm }>(
    '/services/:serviceId/send/:templateId/upload',
    sender,
    async (request, reply) => {
      const { ui, service } = request;
      const template = await sendableTemplate(request, reply);
      if (!template) return reply;
      const file = readUploadedFile(ui, request.body, UPLOAD_MAX_BYTES);
      if ('error' in file) {
        const errors = [{ field: 'file', message: file.error }];
        const title = ui.t('send.upload.title', { name: template.name });
        const body = html`<h1>${title}</h1>${errorSummary(ui, errors)}${uploadForm(ui, service, template, errors)}`;
        return sendServicePage(reply, ui, service, 'templates', { title, body, errors }, 400);
      }
      const id = randomUUID();
      await deleteSendUploadsBefore(db, new Date(Date.now() - UPLOAD_KEPT_HOURS * 3_600_000));
      await insertSendUpload(db, {
        id,
        serviceId: service.id,
        templateId: template.id,
        userId: ui.account!.id,
        fileName: (file.name || 'upload').slice(0, 255),
        format: file.format,
        bytes: file.bytes,
      });
      return reply.redirect(servicePath(service, `/send/${template.id}/upload/${id}`), 303);
    },
  );
}
