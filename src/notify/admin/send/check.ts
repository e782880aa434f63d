/**
 * `/services/:id/send/:templateId/upload/:uploadId`: the bulk engine's check of an uploaded list, with errors per
 * row and cell and its first rows as they will be sent; then sent now or scheduled as a job.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { NotifyAdminDeps } from '../admin-deps.ts';
import type { UiContext } from '../../../platform/ui/context.ts';
import type { ServiceContext } from '../../../platform/ui/service-context.ts';
import { sendServicePage, servicePath } from '../../../platform/ui/service-layout.ts';
import { SendRefused } from '../../sending/refusals.ts';
import { isUuid } from '../../../platform/ids.ts';
import type { TemplateDetail } from '../../templates/templates.ts';
import { JobRejected } from '../../jobs/jobs.ts';
import { RecipientListChecker } from '../../jobs/recipient-list.ts';
import type { CheckedRow, HeaderReport } from '../../jobs/recipient-list-report.ts';
import { readRows, SpreadsheetReadError, type SpreadsheetFormat } from '../../jobs/spreadsheet.ts';
import { deleteSendUpload, findSendUpload } from '../../repositories/send-uploads.ts';
import { refusalField, refusalText } from '../refusal-words.ts';
import { chosenSender, readWhen } from './forms.ts';
import { type Form, sendScope, type UploadParams } from './scope.ts';
import {
  type CheckAnswers,
  checkFailedBody,
  checkReadyBody,
  type CheckResult,
  SENDER_FIELD,
  textsOf,
} from './views.ts';

const PREVIEW_ROWS = 5;

/** The send scope, with the upload of the URL and its check page. */
function checkScope(deps: NotifyAdminDeps) {
  const scope = sendScope(deps);
  const { services, db, notFound, sendableTemplate, sendersFor } = scope;

  async function loadUpload(request: FastifyRequest<{ Params: UploadParams }>) {
    if (!isUuid(request.params.uploadId)) return null;
    return findSendUpload(db, {
      id: request.params.uploadId,
      serviceId: request.service.id,
      templateId: request.params.templateId,
      userId: request.ui.account!.id,
    });
  }

  async function checkPage(
    request: FastifyRequest<{ Params: UploadParams }>,
    reply: FastifyReply,
    opts: CheckAnswers = {},
  ) {
    const { ui, service } = request;
    const template = await sendableTemplate(request, reply);
    if (!template) return reply;
    const upload = await loadUpload(request);
    if (!upload) return notFound(request, reply);
    let result: CheckResult | null = null;
    try {
      result = await checkUpload(services, service, template, upload, ui);
    } catch (err) {
      if (!(err instanceof SpreadsheetReadError)) throw err;
    }
    const title = ui.t('send.check.title', { file: upload.file_name });
    if (!result?.report.ok) {
      const body = checkFailedBody(ui, service, template, upload.file_name, result);
      return sendServicePage(reply, ui, service, 'templates', { title, body, errors: opts.errors }, 400);
    }
    const senders = await sendersFor(service, template);
    const body = checkReadyBody(ui, service, template, upload, result, senders, opts);
    return sendServicePage(reply, ui, service, 'templates', { title, body, errors: opts.errors });
  }

  return { ...scope, loadUpload, checkPage };
}

export async function checkRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  const scope = checkScope(deps);
  const { services, db, directory, sender, situation, notFound, sendableTemplate, sendersFor } = scope;
  const { loadUpload, checkPage } = scope;

  app.get<{ Params: UploadParams }>(
    '/services/:serviceId/send/:templateId/upload/:uploadId',
    sender,
    async (request, reply) => checkPage(request, reply),
  );

  app.post<{ Params: UploadParams; Body: Form }>(
    '/services/:serviceId/send/:templateId/upload/:uploadId',
    sender,
    async (request, reply) => {
      const { ui, service } = request;
      const template = await sendableTemplate(request, reply);
      if (!template) return reply;
      const upload = await loadUpload(request);
      if (!upload) return notFound(request, reply);
      const given = { sender: request.body[SENDER_FIELD], at: request.body.at };
      const chosen = chosenSender(ui, template, await sendersFor(service, template), given.sender);
      if (chosen.error) return checkPage(request, reply, { ...given, when: request.body.when, errors: [chosen.error] });
      const when = readWhen(ui, request.body);
      if ('error' in when) return checkPage(request, reply, { ...given, when: when.when, errors: [when.error] });
      const { scheduledFor } = when;
      if (!service.active)
        return checkPage(request, reply, {
          ...given,
          when: when.when,
          errors: [{ field: 'when', message: ui.t('send.error.suspended') }],
        });
      const record = await directory.service(service.id);
      if (!record) return notFound(request, reply);
      let jobId: string;
      try {
        const { job } = await services.jobs.create(
          { service: record, keyId: null, keyType: 'normal', createdById: ui.account!.id },
          {
            templateId: template.id,
            name: upload.file_name,
            source: [upload.bytes],
            format: upload.file_format,
            scheduledFor,
            replyToId: chosen.id,
            reference: null,
          },
        );
        jobId = job.id;
        if (job.status === 'pending') services.jobs.kick(job.id);
      } catch (err) {
        // The list changed in between (limits, team): the check page shows why.
        if (err instanceof JobRejected) return checkPage(request, reply);
        if (!(err instanceof SendRefused)) throw err;
        const message = refusalText(err.refusal, situation(template, record.messageLimits), ui);
        return checkPage(request, reply, {
          ...given,
          when: when.when,
          errors: [{ field: refusalField(err.refusal) === 'sender' ? SENDER_FIELD : 'when', message }],
        });
      }
      await deleteSendUpload(db, service.id, upload.id);
      return reply.redirect(
        servicePath(service, `/jobs/${jobId}?notice=${scheduledFor ? 'scheduled' : 'started'}`),
        303,
      );
    },
  );
}

/** The bulk engine's check of an upload, as jobs.create will make it, keeping the first rows for the preview. */
async function checkUpload(
  services: NotifyAdminDeps['services'],
  service: ServiceContext,
  template: TemplateDetail,
  upload: { bytes: Uint8Array; file_format: SpreadsheetFormat },
  ui: UiContext,
): Promise<CheckResult> {
  const { directory } = services;
  const record = (await directory.service(service.id))!;
  const remainingToday = await services.send.limits.remaining(
    service.id,
    template.type,
    record.messageLimits[template.type],
  );
  const checker = new RecipientListChecker({
    templateType: template.type,
    templateTexts: textsOf(template),
    templateContent: template.content,
    maxRows: record.maxRows,
    remainingToday,
    allowedRecipients: record.restricted ? await directory.allowedRecipients(service.id) : null,
    restrictionReason: record.restricted ? 'trial' : null,
    phoneRegion: services.config.phoneRegion,
    allowInternational: record.permissions.has('international_sms'),
    language: ui.locale,
  });
  let header: HeaderReport | null = null;
  const firstRows: CheckedRow[] = [];
  for await (const cells of readRows(Buffer.from(upload.bytes), upload.file_format)) {
    if (!header) {
      header = checker.header(cells);
      continue;
    }
    const row = checker.row(cells);
    if (firstRows.length < PREVIEW_ROWS) firstRows.push(row);
  }
  return { header, report: checker.finish(), firstRows, remainingToday };
}
