/**
 * Sending from the web UI. One message: to yourself or to someone else, one field per placeholder, accepted by
 * acceptNotification with the service's rules (trial mode, daily limits), refusals shown on the form in plain
 * words. A spreadsheet: uploaded (CSV, TSV or XLSX), checked by the bulk engine's RecipientListChecker with errors
 * shown per row and cell, its first rows previewed as they will be sent, then sent now or scheduled (up to 96 h)
 * as a job by the jobs engine. When the service has more than one reply-to address (email) or text message sender
 * (SMS), the person chooses which, and the choice goes to acceptNotification or the job as the API's
 * email_reply_to_id / sms_sender_id would (resolveSender turns it into the reply_to_text). Needs send_messages.
 */
import { randomUUID } from 'node:crypto';
import { acceptMultipart, type MultipartForm } from '../../platform/ui/multipart.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AdminDeps } from '../../platform/ui/admin-deps.ts';
import type { UiContext } from '../../platform/ui/context.ts';
import type { TemplateType } from '../../platform/database/schema.ts';
import { html, type Html } from '../../platform/ui/html.ts';
import { csrfField, errorSummary, notice, radios, textInput, type FieldError } from '../../platform/ui/layout.ts';
import { requireService, type ServiceContext } from '../../platform/ui/service-context.ts';
import { sendServicePage, servicePath } from '../../platform/ui/service-layout.ts';
import { acceptNotification, MAX_SCHEDULE_HOURS } from '../sending/send-rules.ts';
import { InvalidRecipientError, validateEmailAddress } from '../../platform/recipients.ts';
import { SendRefused } from '../sending/refusals.ts';
import { refusalField, refusalText } from './refusal-words.ts';
import { csvLine } from '../../platform/csv-safety.ts';
import { templateOf, isUuid, type TemplateDetail } from '../templates/templates.ts';
import { listSenders, type Sender } from '../../platform/services/services.ts';
import { JobRejected } from '../jobs/jobs.ts';
import { RecipientListChecker } from '../jobs/recipient-list.ts';
import type { CheckedRow, HeaderReport, ListReport, RowError } from '../jobs/recipient-list-report.ts';
import { formatFromFilename, readRows, SpreadsheetReadError, type SpreadsheetFormat } from '../jobs/spreadsheet.ts';
import {
  emailPlainText,
  placeholderNames,
  renderEmailBody,
  renderEmailSubject,
  renderSms,
} from '../template-language/index.ts';
import { pageAssets, placeholderFieldId, placeholderFields, placeholderValues } from './templates/views.ts';

type Form = Record<string, string | undefined>;
type Params = { serviceId: string; templateId: string };

/** Largest spreadsheet the UI takes (the API's bulk endpoint has its own limit). */
export const UPLOAD_MAX_BYTES = 10 * 1024 * 1024;
/** Uploads not sent within a day are removed. */
const UPLOAD_KEPT_HOURS = 24;
const PREVIEW_ROWS = 5;
/** The form field (and radio group id) of the chosen reply-to address or text sender. */
const SENDER_FIELD = 'sender';
const ROW_ERRORS_SHOWN = 50;

export async function sendRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const { services } = deps;
  const db = services.database.db;
  const { directory } = services;
  const sender = { preHandler: requireService(db, 'send_messages') };

  acceptMultipart(app, UPLOAD_MAX_BYTES + 64 * 1024);

  /** What the words of a refusal need from this page besides the refusal. */
  const situation = (request: FastifyRequest, template: TemplateDetail, limits: Record<TemplateType, number>) => ({
    templateType: template.type,
    dailyLimit: limits[template.type],
    siteRoot: `${deps.siteRoot(request)}/`,
  });

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

  /** A template that can be sent, or a page saying why not (404, archived). */
  async function sendableTemplate(
    request: FastifyRequest<{ Params: Params }>,
    reply: FastifyReply,
  ): Promise<TemplateDetail | null> {
    const template = await templateOf(db, request.service.id, request.params.templateId);
    if (!template) {
      notFound(request, reply);
      return null;
    }
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

  const textsOf = (template: TemplateDetail) =>
    template.type === 'email' ? [template.subject ?? '', template.content] : [template.content];
  const templateLink = (ui: UiContext, service: ServiceContext, template: TemplateDetail) =>
    html`<p><a href="${servicePath(service, `/templates/${template.id}`)}">${ui.t('templates.back', { name: template.name })}</a></p>`;

  // ---- the sender: a reply-to address (email) or a text message sender (SMS) --------------------------------

  /** The service's reply-to addresses or text senders for the template's channel, the default first. */
  const sendersFor = (service: ServiceContext, template: TemplateDetail) =>
    listSenders(db, template.type === 'email' ? 'email_reply_to' : 'sms_senders', service.id);

  /** The choice, asked only when there is one to make; the default is chosen unless the person chose another. */
  function senderField(
    ui: UiContext,
    template: TemplateDetail,
    senders: Sender[],
    value: string | undefined,
    errors: FieldError[] | undefined,
  ): Html {
    if (senders.length < 2) return html``;
    const { t } = ui;
    return radios({
      id: SENDER_FIELD,
      name: SENDER_FIELD,
      legend: t(`send.sender.legend.${template.type}`),
      // A value that is not one of them (forged, or removed meanwhile) gives way to the default.
      value: senders.some((s) => s.id === value) ? value : senders.find((s) => s.isDefault)?.id,
      errors,
      options: senders.map((s) => ({
        value: s.id,
        label: s.isDefault ? t('send.sender.default', { sender: s.value }) : s.value,
      })),
    });
  }

  /**
   * The id to hand on as the API's email_reply_to_id / sms_sender_id: null (the default) when there is no choice,
   * else one of the service's own; anything else (a forged or stale id) is an error on the field.
   */
  function chosenSender(
    ui: UiContext,
    template: TemplateDetail,
    senders: Sender[],
    raw: string | undefined,
  ): { id: string | null; error?: FieldError } {
    if (senders.length < 2) return { id: null };
    const chosen = senders.find((s) => s.id === raw);
    if (chosen) return { id: chosen.id };
    const key = raw ? `send.sender.unknown.${template.type}` : `send.sender.missing.${template.type}`;
    return { id: null, error: { field: SENDER_FIELD, message: ui.t(key) } };
  }

  // ---- one message ------------------------------------------------------------------------------------------

  interface SendForm {
    to: string;
    recipient: string;
    values: Record<string, string>;
    senders: Sender[];
    sender?: string;
    errors?: FieldError[];
  }

  function sendOnePage(
    request: FastifyRequest,
    reply: FastifyReply,
    template: TemplateDetail,
    form: SendForm,
    status = 200,
  ) {
    const { ui, service } = request;
    const { t } = ui;
    const account = ui.account!;
    const own = template.type === 'email' ? account.email : account.mobileNumber;
    const names = placeholderNames(...textsOf(template));
    const title = t('send.one.title', { name: template.name });
    const recipientLabel = t(template.type === 'email' ? 'send.one.recipientEmail' : 'send.one.recipientSms');
    const body = html`${templateLink(ui, service, template)}
<h1>${title}</h1>
${errorSummary(ui, form.errors)}
<form method="post" action="${servicePath(service, `/send/${template.id}`)}" novalidate>
  ${csrfField(ui)}
  ${
    own
      ? radios({
          id: 'to',
          name: 'to',
          legend: t('send.one.toLegend'),
          value: form.to,
          errors: form.errors,
          options: [
            { value: 'me', label: t('send.one.toMe', { recipient: own }) },
            { value: 'other', label: t('send.one.toOther') },
          ],
        })
      : html`<input type="hidden" name="to" value="other"><p>${t('send.one.noMobile')}</p>`
  }
  ${textInput({
    id: 'recipient',
    label: recipientLabel,
    hint: own ? t('send.one.recipientHint') : undefined,
    type: template.type === 'email' ? 'email' : 'tel',
    value: form.recipient,
    autocomplete: 'off',
    errors: form.errors,
  })}
  ${senderField(ui, template, form.senders, form.sender, form.errors)}
  ${
    names.length > 0 &&
    html`<fieldset><legend>${t('send.one.personalisation')}</legend>
  ${placeholderFields(ui, names, form.values, form.errors)}
  </fieldset>`
  }
  <div class="actions"><button type="submit" id="send-button">${t('send.one.submit')}</button></div>
</form>`;
    return sendServicePage(reply, ui, service, 'templates', { title, body, errors: form.errors }, status);
  }

  app.get<{ Params: Params }>('/services/:serviceId/send/:templateId', sender, async (request, reply) => {
    const template = await sendableTemplate(request, reply);
    if (!template) return reply;
    return sendOnePage(request, reply, template, {
      to: 'me',
      recipient: '',
      values: {},
      senders: await sendersFor(request.service, template),
    });
  });

  app.post<{ Params: Params; Body: Form }>('/services/:serviceId/send/:templateId', sender, async (request, reply) => {
    const { ui, service } = request;
    const { t } = ui;
    const template = await sendableTemplate(request, reply);
    if (!template) return reply;
    const account = ui.account!;
    const own = template.type === 'email' ? account.email : account.mobileNumber;
    const names = placeholderNames(...textsOf(template));
    const values = placeholderValues(names, request.body);
    const to = request.body.to === 'me' && own ? 'me' : 'other';
    const recipientInput = (request.body.recipient ?? '').trim();
    const senders = await sendersFor(service, template);
    const sender = chosenSender(ui, template, senders, request.body[SENDER_FIELD]);
    const form: SendForm = { to, recipient: recipientInput, values, senders, sender: request.body[SENDER_FIELD] };
    const errors: FieldError[] = [];
    const recipientField = 'recipient';
    if (request.body.to !== 'me' && request.body.to !== 'other')
      errors.push({ field: 'to', message: t('send.one.toMissing') });
    const recipient = to === 'me' ? own! : recipientInput;
    if (to === 'other') {
      if (!recipientInput)
        errors.push({
          field: recipientField,
          message: t(template.type === 'email' ? 'send.error.recipientMissingEmail' : 'send.error.recipientMissingSms'),
        });
      else if (template.type === 'email') {
        try {
          validateEmailAddress(recipientInput);
        } catch (err) {
          if (!(err instanceof InvalidRecipientError)) throw err;
          errors.push({ field: recipientField, message: t('send.error.invalidEmail') });
        }
      }
    }
    if (sender.error) errors.push(sender.error);
    names.forEach((name, i) => {
      if (!(values[name] ?? '').trim())
        errors.push({ field: placeholderFieldId(i), message: t('send.error.placeholderMissing', { name }) });
    });
    if (!service.active) errors.unshift({ field: 'send-button', message: t('send.error.suspended') });
    if (errors.length) return sendOnePage(request, reply, template, { ...form, errors }, 400);

    const record = await directory.service(service.id);
    if (!record) return notFound(request, reply);
    try {
      const accepted = await acceptNotification(
        services.send,
        { service: record, keyId: null, keyType: 'normal', createdById: account.id },
        {
          type: template.type,
          recipient,
          templateId: template.id,
          personalisation: values,
          reference: null,
          scheduledFor: null,
          replyToId: sender.id,
          oneClickUnsubscribeUrl: null,
          sanitiseContentFor: null,
        },
      );
      return reply.redirect(servicePath(service, `/notifications/${accepted.id}?notice=sent`), 303);
    } catch (err) {
      if (!(err instanceof SendRefused)) throw err;
      const message = refusalText(err.refusal, situation(request, template, record.messageLimits), ui);
      const about = refusalField(err.refusal);
      const field = about === 'sender' ? SENDER_FIELD : about === 'recipient' ? recipientField : 'send-button';
      return sendOnePage(request, reply, template, { ...form, errors: [{ field, message }] }, 400);
    }
  });

  // ---- a spreadsheet ----------------------------------------------------------------------------------------

  const recipientColumn = (ui: UiContext, template: TemplateDetail) =>
    ui.t(template.type === 'email' ? 'send.upload.columnEmail' : 'send.upload.columnSms');

  function uploadForm(ui: UiContext, service: ServiceContext, template: TemplateDetail, errors?: FieldError[]): Html {
    const { t } = ui;
    const names = placeholderNames(...textsOf(template));
    return html`<form method="post" action="${servicePath(service, `/send/${template.id}/upload`)}" enctype="multipart/form-data" novalidate>
  ${csrfField(ui)}
  <div class="field${errors?.some((e) => e.field === 'file') ? ' has-error' : ''}">
    <label for="file">${t('send.upload.fileLabel')}</label>
    <span class="hint" id="file-hint">${t('send.upload.fileHint')}</span>
    ${errors?.filter((e) => e.field === 'file').map((e) => html`<span class="error-message" id="file-error">${e.message}</span>`)}
    <input type="file" id="file" name="file" accept=".csv,.tsv,.txt,.xlsx" aria-describedby="file-hint${errors?.some((e) => e.field === 'file') ? ' file-error' : ''}">
  </div>
  <p>${t('send.upload.columns', { recipient: recipientColumn(ui, template) })}${names.length > 0 ? ` ${t('send.upload.placeholderColumns', { columns: names.join(', ') })}` : ''}
    <a href="${servicePath(service, `/send/${template.id}/example.csv`)}">${t('send.upload.example')}</a></p>
  <div class="actions"><button type="submit">${t('send.upload.submit')}</button></div>
</form>`;
  }

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
      const { t } = ui;
      const template = await sendableTemplate(request, reply);
      if (!template) return reply;
      const file = request.body?.file;
      let error: string | null = null;
      let format: SpreadsheetFormat | null = null;
      let bytes: Buffer | null = null;
      if (!file || typeof file === 'string') error = t('send.upload.fileMissing');
      else if (!(format = formatFromFilename(file.filename))) error = t('send.upload.fileType');
      else if (file.bytes.length > UPLOAD_MAX_BYTES) error = t('send.upload.fileTooBig', { max: '10' });
      else bytes = Buffer.from(file.bytes.buffer, file.bytes.byteOffset, file.bytes.length);
      if (error || !bytes || !format || !file || typeof file === 'string') {
        const errors = [{ field: 'file', message: error ?? t('send.upload.fileMissing') }];
        const title = t('send.upload.title', { name: template.name });
        const body = html`<h1>${title}</h1>${errorSummary(ui, errors)}${uploadForm(ui, service, template, errors)}`;
        return sendServicePage(reply, ui, service, 'templates', { title, body, errors }, 400);
      }
      const id = randomUUID();
      await db
        .deleteFrom('send_uploads')
        .where('created_at', '<', new Date(Date.now() - UPLOAD_KEPT_HOURS * 3_600_000))
        .execute();
      await db
        .insertInto('send_uploads')
        .values({
          id,
          service_id: service.id,
          template_id: template.id,
          user_id: ui.account!.id,
          file_name: (file.filename || 'upload').slice(0, 255),
          file_format: format,
          bytes,
        })
        .execute();
      return reply.redirect(servicePath(service, `/send/${template.id}/upload/${id}`), 303);
    },
  );

  async function loadUpload(request: FastifyRequest<{ Params: Params & { uploadId: string } }>) {
    if (!isUuid(request.params.uploadId)) return null;
    return (
      (await db
        .selectFrom('send_uploads')
        .selectAll()
        .where('id', '=', request.params.uploadId)
        .where('service_id', '=', request.service.id)
        .where('template_id', '=', request.params.templateId)
        .where('user_id', '=', request.ui.account!.id)
        .executeTakeFirst()) ?? null
    );
  }

  interface CheckResult {
    header: HeaderReport | null;
    report: ListReport;
    firstRows: CheckedRow[];
    remainingToday: number;
  }

  /** The bulk engine's check of an upload, as jobs.create will make it, keeping the first rows for the preview. */
  async function checkUpload(
    service: ServiceContext,
    template: TemplateDetail,
    upload: { bytes: Uint8Array; file_format: SpreadsheetFormat },
    ui: UiContext,
  ): Promise<CheckResult> {
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

  async function checkPage(
    request: FastifyRequest<{ Params: Params & { uploadId: string } }>,
    reply: FastifyReply,
    opts: { errors?: FieldError[]; when?: string; at?: string; sender?: string } = {},
  ) {
    const { ui, service } = request;
    const { t } = ui;
    const template = await sendableTemplate(request, reply);
    if (!template) return reply;
    const upload = await loadUpload(request);
    if (!upload) return notFound(request, reply);
    let result: CheckResult | null = null;
    let unreadable = false;
    try {
      result = await checkUpload(service, template, upload, ui);
    } catch (err) {
      if (!(err instanceof SpreadsheetReadError)) throw err;
      unreadable = true;
    }
    const title = t('send.check.title', { file: upload.file_name });
    const back = templateLink(ui, service, template);
    if (unreadable || !result || !result.report.ok) {
      const problems = result ? problemTexts(ui, template, result) : [t('send.check.unreadable')];
      const errors: FieldError[] = [{ field: 'file', message: t('send.check.fixAndUpload') }];
      const body = html`${pageAssets()}${back}
<h1>${title}</h1>
<div class="error-summary" role="alert" aria-labelledby="problems-title" tabindex="-1">
  <h2 id="problems-title">${t('send.check.problemsTitle')}</h2>
  <ul>${problems.map((p) => html`<li>${p}</li>`)}</ul>
</div>
${result && result.report.rowErrors.length > 0 && rowErrorTable(ui, upload.file_name, result.report)}
<h2>${t('send.check.uploadAgain')}</h2>
${uploadForm(ui, service, template, errors)}`;
      return sendServicePage(reply, ui, service, 'templates', { title, body, errors: opts.errors }, 400);
    }
    const { report, firstRows, header } = result;
    const names = placeholderNames(...textsOf(template));
    const hours = scheduleChoices(new Date());
    const senders = await sendersFor(service, template);
    const body = html`${pageAssets()}${back}
<h1>${title}</h1>
${errorSummary(ui, opts.errors)}
${notice(t(report.messageCount === 1 ? 'send.check.ready.one' : 'send.check.ready.other', { count: ui.formatNumber(report.rowCount), template: template.name }), 'success')}
${report.duplicateRecipients.recipients > 0 && notice(t('send.check.duplicates', { count: ui.formatNumber(report.duplicateRecipients.recipients) }), 'warning')}
<table class="preview-rows">
  <caption>${t('send.check.previewCaption', { count: firstRows.length, total: ui.formatNumber(report.rowCount) })}</caption>
  <thead><tr><th scope="col">${t('send.check.row')}</th><th scope="col">${header?.recipientColumn ?? ''}</th>${names.map((n) => html`<th scope="col">${n}</th>`)}<th scope="col">${t('send.check.message')}</th></tr></thead>
  <tbody>${firstRows.map(
    (row) =>
      html`<tr><th scope="row">${row.rowNumber}</th><td>${row.recipient}</td>${names.map((n) => html`<td>${row.personalisation[n] ?? ''}</td>`)}<td class="message-cell">${renderedRow(template, row)}</td></tr>`,
  )}</tbody>
</table>
<form method="post" action="${servicePath(service, `/send/${template.id}/upload/${upload.id}`)}" novalidate>
  ${csrfField(ui)}
  ${senderField(ui, template, senders, opts.sender, opts.errors)}
  ${radios({
    id: 'when',
    name: 'when',
    legend: t('send.check.whenLegend'),
    value: opts.when ?? 'now',
    errors: opts.errors,
    options: [
      { value: 'now', label: t('send.check.now') },
      { value: 'later', label: t('send.check.later', { hours: MAX_SCHEDULE_HOURS }) },
    ],
  })}
  <div class="field">
    <label for="at">${t('send.check.atLabel')}</label>
    <span class="hint" id="at-hint">${t('send.check.atHint')}</span>
    <select id="at" name="at" aria-describedby="at-hint">
      ${hours.map((d) => html`<option value="${d.toISOString()}"${opts.at === d.toISOString() ? ' selected' : ''}>${ui.formatDateTime(d)}</option>`)}
    </select>
  </div>
  <div class="actions"><button type="submit" id="start-button">${t('send.check.submit', { count: ui.formatNumber(report.rowCount) })}</button></div>
</form>`;
    return sendServicePage(reply, ui, service, 'templates', { title, body, errors: opts.errors });
  }

  app.get<{ Params: Params & { uploadId: string } }>(
    '/services/:serviceId/send/:templateId/upload/:uploadId',
    sender,
    async (request, reply) => checkPage(request, reply),
  );

  app.post<{ Params: Params & { uploadId: string }; Body: Form }>(
    '/services/:serviceId/send/:templateId/upload/:uploadId',
    sender,
    async (request, reply) => {
      const { ui, service } = request;
      const { t } = ui;
      const template = await sendableTemplate(request, reply);
      if (!template) return reply;
      const upload = await loadUpload(request);
      if (!upload) return notFound(request, reply);
      const given = { sender: request.body[SENDER_FIELD], at: request.body.at };
      const sender = chosenSender(ui, template, await sendersFor(service, template), given.sender);
      if (sender.error) return checkPage(request, reply, { ...given, when: request.body.when, errors: [sender.error] });
      const when = request.body.when === 'later' ? 'later' : request.body.when === 'now' ? 'now' : null;
      let scheduledFor: Date | null = null;
      if (!when)
        return checkPage(request, reply, {
          ...given,
          errors: [{ field: 'when', message: t('send.check.whenMissing') }],
        });
      if (when === 'later') {
        const at = new Date(request.body.at ?? '');
        const now = Date.now();
        if (Number.isNaN(at.getTime()) || at.getTime() <= now || at.getTime() > now + MAX_SCHEDULE_HOURS * 3_600_000) {
          return checkPage(request, reply, {
            ...given,
            when,
            errors: [{ field: 'at', message: t('send.check.atInvalid', { hours: MAX_SCHEDULE_HOURS }) }],
          });
        }
        scheduledFor = at;
      }
      if (!service.active)
        return checkPage(request, reply, {
          ...given,
          when,
          errors: [{ field: 'when', message: t('send.error.suspended') }],
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
            replyToId: sender.id,
            reference: null,
          },
        );
        jobId = job.id;
        if (job.status === 'pending') services.jobs.kick(job.id);
      } catch (err) {
        // The list changed in between (limits, team): the check page shows why.
        if (err instanceof JobRejected) return checkPage(request, reply);
        if (!(err instanceof SendRefused)) throw err;
        const message = refusalText(err.refusal, situation(request, template, record.messageLimits), ui);
        return checkPage(request, reply, {
          ...given,
          when,
          errors: [{ field: refusalField(err.refusal) === 'sender' ? SENDER_FIELD : 'when', message }],
        });
      }
      await db.deleteFrom('send_uploads').where('id', '=', upload.id).where('service_id', '=', service.id).execute();
      return reply.redirect(
        servicePath(service, `/jobs/${jobId}?notice=${scheduledFor ? 'scheduled' : 'started'}`),
        303,
      );
    },
  );

  /** The list's problems in the page's words, in the engine's order (row errors are in the table below). */
  function problemTexts(ui: UiContext, _template: TemplateDetail, result: CheckResult): string[] {
    const { t } = ui;
    const { report, header } = result;
    return report.problems
      .map((p) => {
        switch (p.kind) {
          case 'no_rows':
            return t(header ? 'send.problem.noRows' : 'send.problem.empty');
          case 'missing_headers':
            return t('send.problem.missingHeaders', { columns: (header?.missing ?? []).join(', ') });
          case 'duplicate_headers':
            return t('send.problem.duplicateHeaders', { columns: (header?.duplicates ?? []).join(', ') });
          case 'daily_limit':
            return t('send.problem.dailyLimit', {
              remaining: ui.formatNumber(result.remainingToday),
              count: ui.formatNumber(report.messageCount),
            });
          case 'too_many_rows':
            return t('send.problem.tooManyRows');
          case 'not_allowed':
            return [
              t('send.problem.notAllowed', { count: ui.formatNumber(report.notAllowed.count) }),
              report.notAllowed.examples.length > 0
                ? t('send.problem.notAllowedRows', { rows: report.notAllowed.examples.map((e) => e.row).join(', ') })
                : '',
            ]
              .join(' ')
              .trim();
          case 'row_errors':
          case 'message_errors':
            return t(report.rowsWithErrors === 1 ? 'send.problem.rowErrors.one' : 'send.problem.rowErrors.other', {
              count: ui.formatNumber(report.rowsWithErrors),
            });
          case 'mixed_simulated':
            return t('send.problem.mixedSimulated');
          default:
            return p.message;
        }
      })
      .filter((text, i, all) => all.indexOf(text) === i);
  }

  function rowErrorTable(ui: UiContext, fileName: string, report: ListReport): Html {
    const { t } = ui;
    const shown = report.rowErrors.slice(0, ROW_ERRORS_SHOWN);
    return html`<table class="row-errors">
  <caption>${t('send.check.errorsCaption', { file: fileName })}</caption>
  <thead><tr><th scope="col">${t('send.check.row')}</th><th scope="col">${t('send.check.column')}</th><th scope="col">${t('send.check.problem')}</th></tr></thead>
  <tbody>${shown.map(
    (e) =>
      html`<tr><th scope="row">${e.row}</th><td>${e.column ?? t('send.check.wholeMessage')}</td><td>${cellMessage(ui, e)}</td></tr>`,
  )}</tbody>
</table>
${report.rowErrorCount > shown.length && html`<p>${t('send.check.moreErrors', { count: ui.formatNumber(report.rowErrorCount - shown.length) })}</p>`}`;
  }
}

/** How one row's message will read: the SMS text, or the email's subject and its first lines. */
function renderedRow(template: TemplateDetail, row: CheckedRow): Html {
  if (row.errors.length > 0) return html``;
  if (template.type === 'sms') return html`${renderSms(template.content, row.personalisation).body}`;
  const subject = renderEmailSubject(template.subject ?? '', row.personalisation);
  const text = emailPlainText(renderEmailBody(template.content, row.personalisation));
  return html`<strong>${subject}</strong><br>${text.length > 200 ? `${text.slice(0, 200)}…` : text}`;
}

/** Whole hours from the next one to 96 hours ahead, for the schedule picker. */
function scheduleChoices(now: Date): Date[] {
  const first = new Date(now);
  first.setUTCMinutes(0, 0, 0);
  const choices: Date[] = [];
  for (let h = 1; h <= MAX_SCHEDULE_HOURS; h++) {
    const at = new Date(first.getTime() + h * 3_600_000);
    if (at.getTime() - now.getTime() <= MAX_SCHEDULE_HOURS * 3_600_000) choices.push(at);
  }
  return choices;
}

/** A cell's or a row's problem in the page's language, from the engine's code and numbers. */
function cellMessage(ui: UiContext, error: RowError): string {
  const params = Object.fromEntries(Object.entries(error.params ?? {}).map(([name, n]) => [name, ui.formatNumber(n)]));
  return ui.t(`send.cell.${error.code}`, params);
}
