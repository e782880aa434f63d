/** Creating, editing and copying a template (each save a new version). */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AdminDeps } from '../../../platform/ui/admin-deps.ts';
import type { UiContext } from '../../../platform/ui/context.ts';
import { html } from '../../../platform/ui/html.ts';
import { csrfField, errorSummary, radios, textInput, type FieldError } from '../../../platform/ui/layout.ts';
import { sendServicePage } from '../../../platform/ui/service-layout.ts';
import type { TemplateCategory, TemplateType } from '../../../platform/database/schema.ts';
import {
  allFolders,
  createTemplate,
  folderOf,
  TEMPLATE_CATEGORIES,
  TemplateError,
  TEMPLATE_NAME_MAX,
  updateTemplate,
  type TemplateDetail,
  type TemplateFields,
} from '../../templates/templates.ts';
import { categoryLabel, pageAssets, smsCounter, smsStats } from './views.ts';
import { templateScope, type Params, type Form, SUBJECT_MAX } from './scope.ts';

export async function editorRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const { db, directory, manager, base, templatePath, loadTemplate, notFound } = templateScope(deps);

  // ---- creating and editing ---------------------------------------------------------------------------------

  interface EditorOptions {
    mode: 'create' | 'edit';
    type: TemplateType;
    template?: TemplateDetail;
    fields: TemplateFields;
    folderId: string | null;
    errors?: FieldError[];
  }

  async function editorPage(request: FastifyRequest, reply: FastifyReply, opts: EditorOptions, status = 200) {
    const { ui, service } = request;
    const { t } = ui;
    const folders = await allFolders(db, service.id);
    const title =
      opts.mode === 'edit'
        ? t('templates.edit.title', { name: opts.template!.name })
        : t(opts.type === 'email' ? 'templates.new.titleEmail' : 'templates.new.titleSms');
    const action = opts.mode === 'edit' ? templatePath(service, opts.template!.id, '/edit') : `${base(service)}/new`;
    const contentError = opts.errors?.find((e) => e.field === 'content');
    const contentHint = t(
      opts.type === 'email' ? 'templates.field.content.hintEmail' : 'templates.field.content.hintSms',
    );
    const body = html`${pageAssets()}
<h1>${title}</h1>
${errorSummary(ui, opts.errors)}
<form method="post" action="${action}" novalidate>
  ${csrfField(ui)}
  ${opts.mode === 'create' && html`<input type="hidden" name="type" value="${opts.type}">`}
  ${textInput({ id: 'name', label: t('templates.field.name.label'), hint: t('templates.field.name.hint'), value: opts.fields.name, errors: opts.errors })}
  ${opts.type === 'email' && textInput({ id: 'subject', label: t('templates.field.subject.label'), value: opts.fields.subject ?? '', errors: opts.errors })}
  <div class="field${contentError ? ' has-error' : ''}">
    <label for="content">${t('templates.field.content.label')}</label>
    <span class="hint" id="content-hint">${contentHint}
      ${opts.type === 'email' && html` <a href="${base(service)}/formatting-guide">${t('templates.guide.link')}</a>`}</span>
    ${contentError && html`<span class="error-message" id="content-error">${contentError.message}</span>`}
    <textarea id="content" name="content" rows="${opts.type === 'email' ? 14 : 6}" aria-describedby="content-hint${opts.type === 'sms' ? ' content-counter' : ''}${contentError ? ' content-error' : ''}"${contentError ? html` aria-invalid="true"` : ''}${opts.type === 'sms' ? html` data-sms-alphabet="/sms-alphabet.json"` : ''}>
${opts.fields.content}</textarea>
    ${opts.type === 'sms' && smsCounter(ui, smsStats(opts.fields.content), 'content')}
  </div>
  ${radios({
    id: 'category',
    name: 'category',
    legend: t('templates.field.category.legend'),
    value: opts.fields.category,
    errors: opts.errors,
    options: TEMPLATE_CATEGORIES.map((c) => ({
      value: c,
      label: categoryLabel(ui, c),
      hint: t(`templates.category.${c}.hint`),
    })),
  })}
  <div class="field">
    <label for="folder">${t('templates.field.folder.label')}</label>
    <select id="folder" name="folder">
      <option value="">${t('templates.field.folder.top')}</option>
      ${folders.map((f) => html`<option value="${f.id}"${f.id === opts.folderId ? ' selected' : ''}>${f.label}</option>`)}
    </select>
  </div>
  <div class="actions"><button type="submit">${t('templates.field.save')}</button>
  <a href="${opts.template ? templatePath(service, opts.template.id) : base(service)}">${t('common.cancel')}</a></div>
</form>`;
    return sendServicePage(reply, ui, service, 'templates', { title, body, errors: opts.errors }, status);
  }

  /** The form's fields, checked; errors in the page's language. */
  function readFields(
    ui: UiContext,
    type: TemplateType,
    body: Form,
  ): { fields: TemplateFields; folderId: string | null; errors: FieldError[] } {
    const { t } = ui;
    const fields: TemplateFields = {
      name: (body.name ?? '').trim(),
      subject: type === 'email' ? (body.subject ?? '').trim() : null,
      content: (body.content ?? '').replace(/\r\n/g, '\n'),
      category: (TEMPLATE_CATEGORIES as readonly string[]).includes(body.category ?? '')
        ? (body.category as TemplateCategory)
        : 'normal',
    };
    const errors: FieldError[] = [];
    if (!fields.name) errors.push({ field: 'name', message: t('templates.field.name.missing') });
    else if (fields.name.length > TEMPLATE_NAME_MAX)
      errors.push({ field: 'name', message: t('templates.field.name.tooLong', { max: TEMPLATE_NAME_MAX }) });
    if (type === 'email') {
      if (!fields.subject) errors.push({ field: 'subject', message: t('templates.field.subject.missing') });
      else if (fields.subject.length > SUBJECT_MAX)
        errors.push({ field: 'subject', message: t('templates.field.subject.tooLong', { max: SUBJECT_MAX }) });
    }
    if (!fields.content.trim()) errors.push({ field: 'content', message: t('templates.field.content.missing') });
    else if (type === 'sms' && smsStats(fields.content).tooLong) {
      errors.push({
        field: 'content',
        message: t('templates.field.content.smsTooLong', {
          count: ui.formatNumber(smsStats(fields.content).characters),
        }),
      });
    }
    if (body.category !== undefined && !(TEMPLATE_CATEGORIES as readonly string[]).includes(body.category)) {
      errors.push({ field: 'category', message: t('templates.field.category.missing') });
    }
    return { fields, folderId: body.folder ? body.folder : null, errors };
  }

  app.get<{ Params: { serviceId: string }; Querystring: { folder?: string; type?: string; chosen?: string } }>(
    '/services/:serviceId/templates/new',
    manager,
    async (request, reply) => {
      const { ui, service } = request;
      const { t } = ui;
      const folder = request.query.folder ? await folderOf(db, service.id, request.query.folder) : null;
      const type = request.query.type;
      if (type === 'email' || type === 'sms') {
        return editorPage(request, reply, {
          mode: 'create',
          type,
          fields: { name: '', subject: '', content: '', category: 'normal' },
          folderId: folder?.id ?? null,
        });
      }
      // First step: which kind of template (a GET form, so it works without JavaScript and can be bookmarked).
      const errors: FieldError[] = request.query.chosen
        ? [{ field: 'type', message: t('templates.new.typeMissing') }]
        : [];
      const title = t('templates.new.title');
      const body = html`<h1>${title}</h1>
${errorSummary(ui, errors)}
<form method="get" action="${base(service)}/new" novalidate>
  ${folder && html`<input type="hidden" name="folder" value="${folder.id}">`}
  <input type="hidden" name="chosen" value="1">
  ${radios({
    id: 'type',
    name: 'type',
    legend: t('templates.new.typeLegend'),
    errors,
    options: [
      { value: 'email', label: t('templates.type.email'), hint: t('templates.new.emailHint') },
      { value: 'sms', label: t('templates.type.sms'), hint: t('templates.new.smsHint') },
    ],
  })}
  <div class="actions"><button type="submit">${t('templates.new.continue')}</button></div>
</form>`;
      return sendServicePage(reply, ui, service, 'templates', { title, body, errors }, errors.length ? 400 : 200);
    },
  );

  app.post<{ Params: { serviceId: string }; Body: Form }>(
    '/services/:serviceId/templates/new',
    manager,
    async (request, reply) => {
      const { ui, service } = request;
      const type = request.body.type;
      if (type !== 'email' && type !== 'sms') return reply.redirect(`${base(service)}/new?chosen=1`, 303);
      const { fields, folderId, errors } = readFields(ui, type, request.body);
      if (errors.length) return editorPage(request, reply, { mode: 'create', type, fields, folderId, errors }, 400);
      try {
        const id = await createTemplate(db, {
          ...fields,
          serviceId: service.id,
          type,
          folderId,
          userId: ui.account!.id,
        });
        directory.invalidate(service.id);
        return reply.redirect(`${templatePath(service, id)}?notice=created`, 303);
      } catch (err) {
        if (err instanceof TemplateError) return notFound(request, reply);
        throw err;
      }
    },
  );

  app.get<{ Params: Params }>('/services/:serviceId/templates/:templateId/edit', manager, async (request, reply) => {
    const template = await loadTemplate(request, reply);
    if (!template) return reply;
    if (template.archived) return reply.redirect(templatePath(request.service, template.id), 303);
    return editorPage(request, reply, {
      mode: 'edit',
      type: template.type,
      template,
      fields: template,
      folderId: template.folderId,
    });
  });

  app.post<{ Params: Params; Body: Form }>(
    '/services/:serviceId/templates/:templateId/edit',
    manager,
    async (request, reply) => {
      const { ui, service } = request;
      const template = await loadTemplate(request, reply);
      if (!template) return reply;
      if (template.archived) return reply.redirect(templatePath(service, template.id), 303);
      const { fields, folderId, errors } = readFields(ui, template.type, request.body);
      if (errors.length)
        return editorPage(
          request,
          reply,
          { mode: 'edit', type: template.type, template, fields, folderId, errors },
          400,
        );
      try {
        const version = await updateTemplate(db, service.id, template.id, { ...fields, folderId }, ui.account!.id);
        directory.invalidate(service.id);
        return reply.redirect(
          `${templatePath(service, template.id)}?notice=${version === template.version ? 'unchanged' : 'saved'}`,
          303,
        );
      } catch (err) {
        if (err instanceof TemplateError) return notFound(request, reply);
        throw err;
      }
    },
  );

  app.get<{ Params: Params }>('/services/:serviceId/templates/:templateId/copy', manager, async (request, reply) => {
    const template = await loadTemplate(request, reply);
    if (!template) return reply;
    const name = request.ui.t('templates.copy.name', { name: template.name }).slice(0, TEMPLATE_NAME_MAX);
    return editorPage(request, reply, {
      mode: 'create',
      type: template.type,
      fields: { ...template, name },
      folderId: template.folderId,
    });
  });
}
