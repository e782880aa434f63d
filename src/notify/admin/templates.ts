/**
 * A service's templates: folders (listed first), new templates (email or text message), edits (each a new
 * version), copies, archiving, version history, the formatting guide, and previews with sample personalisation.
 * The email preview is the real rendered email in a sandboxed frame from its own route; text messages are shown as
 * on a phone with their character and part count. Viewing needs membership; changing needs manage_templates.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AdminDeps } from '../../platform/ui/admin-deps.ts';
import type { UiContext } from '../../platform/ui/context.ts';
import { html, type Html } from '../../platform/ui/html.ts';
import { csrfField, errorSummary, notice, radios, textInput, type FieldError } from '../../platform/ui/layout.ts';
import { requireService, type ServiceContext } from '../../platform/ui/service-context.ts';
import { sendServicePage, servicePath } from '../../platform/ui/service-layout.ts';
import type { TemplateCategory, TemplateType } from '../../platform/database/schema.ts';
import {
  allFolders,
  archiveTemplate,
  createFolder,
  createTemplate,
  folderContents,
  folderOf,
  folderPath,
  FOLDER_NAME_MAX,
  TEMPLATE_CATEGORIES,
  TemplateError,
  TEMPLATE_NAME_MAX,
  templateOf,
  templateVersion,
  templateVersions,
  updateTemplate,
  type Folder,
  type TemplateDetail,
  type TemplateFields,
} from '../templates/templates.ts';
import {
  placeholderNames,
  renderEmailDocument,
  renderEmailHtml,
  renderEmailSubject,
  renderSms,
} from '../template-language/index.ts';
import { emailBranding, loadBranding, logoDataUrl } from '../settings/email-branding.ts';
import {
  categoryLabel,
  emailFrame,
  EMAIL_FRAME_ROUTE,
  pageAssets,
  phonePreview,
  placeholderFields,
  placeholderValues,
  PLACEHOLDER_PREFIX,
  SMS_ALPHABET_JSON,
  smsCounter,
  smsStats,
  typeLabel,
} from './template-views.ts';

type Form = Record<string, string | undefined>;
type Params = { serviceId: string; templateId: string };

const SUBJECT_MAX = 1000;
const TEMPLATE_NOTICES = ['created', 'saved', 'unchanged', 'folder-created', 'archived'] as const;

export async function templateRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const db = deps.services.database.db;
  const directory = deps.services.directory;
  const member = { preHandler: requireService(db) };
  const manager = { preHandler: requireService(db, 'manage_templates') };

  const base = (service: ServiceContext) => servicePath(service, '/templates');
  const templatePath = (service: ServiceContext, id: string, rest = '') => `${base(service)}/${id}${rest}`;

  /** The template of the URL, or a 404 page. */
  async function loadTemplate(
    request: FastifyRequest<{ Params: Params }>,
    reply: FastifyReply,
  ): Promise<TemplateDetail | null> {
    const template = await templateOf(db, request.service.id, request.params.templateId);
    if (!template) {
      notFound(request, reply);
      return null;
    }
    return template;
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

  // ---- lists and folders ------------------------------------------------------------------------------------

  async function listPage(request: FastifyRequest, reply: FastifyReply, folder: Folder | null, shownNotice?: string) {
    const { ui, service } = request;
    const { t } = ui;
    const [path, contents] = await Promise.all([
      folderPath(db, service.id, folder?.id ?? null),
      folderContents(db, service.id, folder?.id ?? null),
    ]);
    const canManage = service.permissions.has('manage_templates');
    const query = folder ? `?folder=${folder.id}` : '';
    const title = folder ? folder.name : t('templates.list.title');
    const body = html`${pageAssets()}
${path.length > 0 && breadcrumbs(ui, service, path)}
<h1>${title}</h1>
${shownNotice && notice(t(`templates.notice.${shownNotice}`), 'success')}
${
  canManage &&
  html`<p class="actions"><a class="button" href="${base(service)}/new${query}">${t('templates.list.newTemplate')}</a>
  <a class="button secondary" href="${base(service)}/folders/new${folder ? `?parent=${folder.id}` : ''}">${t('templates.list.newFolder')}</a></p>`
}
${contents.folders.length === 0 && contents.templates.length === 0 && html`<p>${t(folder ? 'templates.list.emptyFolder' : 'templates.list.empty')}</p>`}
${
  contents.folders.length > 0 &&
  html`<h2>${t('templates.list.folders')}</h2>
<ul class="template-list">${contents.folders.map((f) => html`<li><a href="${base(service)}/folders/${f.id}"><span class="folder-icon" aria-hidden="true"></span>${f.name}</a></li>`)}</ul>`
}
${
  contents.templates.length > 0 &&
  html`<h2>${t('templates.list.templates')}</h2>
<ul class="template-list">${contents.templates.map(
    (tpl) =>
      html`<li><a href="${templatePath(service, tpl.id)}">${tpl.name}</a> <span class="muted">${typeLabel(ui, tpl.type)}</span></li>`,
  )}</ul>`
}
<p><a href="${base(service)}/formatting-guide">${t('templates.guide.link')}</a></p>`;
    return sendServicePage(reply, ui, service, 'templates', { title, body });
  }

  app.get<{ Params: { serviceId: string }; Querystring: { notice?: string } }>(
    '/services/:serviceId/templates',
    member,
    async (request, reply) => {
      return listPage(
        request,
        reply,
        null,
        TEMPLATE_NOTICES.find((n) => n === request.query.notice),
      );
    },
  );

  app.get<{ Params: { serviceId: string; folderId: string }; Querystring: { notice?: string } }>(
    '/services/:serviceId/templates/folders/:folderId',
    member,
    async (request, reply) => {
      const folder = await folderOf(db, request.service.id, request.params.folderId);
      if (!folder) return notFound(request, reply);
      return listPage(
        request,
        reply,
        folder,
        TEMPLATE_NOTICES.find((n) => n === request.query.notice),
      );
    },
  );

  function folderForm(
    request: FastifyRequest,
    reply: FastifyReply,
    parent: Folder | null,
    opts: { name?: string; errors?: FieldError[] } = {},
    status = 200,
  ) {
    const { ui, service } = request;
    const { t } = ui;
    const title = t('templates.folder.title');
    const body = html`<h1>${title}</h1>
${errorSummary(ui, opts.errors)}
${parent && html`<p>${t('templates.folder.inside', { folder: parent.name })}</p>`}
<form method="post" action="${base(service)}/folders/new" novalidate>
  ${csrfField(ui)}
  ${parent && html`<input type="hidden" name="parent" value="${parent.id}">`}
  ${textInput({ id: 'name', label: t('templates.folder.name'), value: opts.name ?? '', errors: opts.errors })}
  <div class="actions"><button type="submit">${t('templates.folder.submit')}</button>
  <a href="${parent ? `${base(service)}/folders/${parent.id}` : base(service)}">${t('common.cancel')}</a></div>
</form>`;
    return sendServicePage(reply, ui, service, 'templates', { title, body, errors: opts.errors }, status);
  }

  app.get<{ Params: { serviceId: string }; Querystring: { parent?: string } }>(
    '/services/:serviceId/templates/folders/new',
    manager,
    async (request, reply) => {
      const parent = request.query.parent ? await folderOf(db, request.service.id, request.query.parent) : null;
      return folderForm(request, reply, parent);
    },
  );

  app.post<{ Params: { serviceId: string }; Body: Form }>(
    '/services/:serviceId/templates/folders/new',
    manager,
    async (request, reply) => {
      const { ui, service } = request;
      const { t } = ui;
      const parent = request.body.parent ? await folderOf(db, service.id, request.body.parent) : null;
      if (request.body.parent && !parent) return notFound(request, reply);
      const name = (request.body.name ?? '').trim();
      let error: string | null = null;
      if (!name) error = t('templates.folder.nameMissing');
      else if (name.length > FOLDER_NAME_MAX) error = t('templates.folder.nameTooLong', { max: FOLDER_NAME_MAX });
      if (!error) {
        try {
          const id = await createFolder(db, service.id, parent?.id ?? null, name);
          return reply.redirect(`${base(service)}/folders/${id}?notice=folder-created`, 303);
        } catch (err) {
          if (!(err instanceof TemplateError)) throw err;
          error = t('templates.folder.nameTaken');
        }
      }
      return folderForm(request, reply, parent, { name, errors: [{ field: 'name', message: error }] }, 400);
    },
  );

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

  // ---- archiving --------------------------------------------------------------------------------------------

  app.get<{ Params: Params }>('/services/:serviceId/templates/:templateId/archive', manager, async (request, reply) => {
    const { ui, service } = request;
    const { t } = ui;
    const template = await loadTemplate(request, reply);
    if (!template) return reply;
    const title = t('templates.archive.title', { name: template.name });
    const body = html`<h1>${title}</h1>
<p>${t('templates.archive.body')}</p>
<form method="post" action="${templatePath(service, template.id, '/archive')}">
  ${csrfField(ui)}
  <div class="actions"><button type="submit" class="danger">${t('templates.archive.submit')}</button>
  <a href="${templatePath(service, template.id)}">${t('common.cancel')}</a></div>
</form>`;
    return sendServicePage(reply, ui, service, 'templates', { title, body });
  });

  app.post<{ Params: Params }>(
    '/services/:serviceId/templates/:templateId/archive',
    manager,
    async (request, reply) => {
      const { service } = request;
      const template = await loadTemplate(request, reply);
      if (!template) return reply;
      await archiveTemplate(db, service.id, template.id);
      directory.invalidate(service.id);
      return reply.redirect(
        `${template.folderId ? `${base(service)}/folders/${template.folderId}` : base(service)}?notice=archived`,
        303,
      );
    },
  );

  // ---- viewing ----------------------------------------------------------------------------------------------

  app.get<{ Params: Params; Querystring: { notice?: string } }>(
    '/services/:serviceId/templates/:templateId',
    member,
    async (request, reply) => {
      const { ui, service } = request;
      const { t } = ui;
      const template = await loadTemplate(request, reply);
      if (!template) return reply;
      const shown = TEMPLATE_NOTICES.find((n) => n === request.query.notice);
      const path = await folderPath(db, service.id, template.folderId);
      const canSend = service.permissions.has('send_messages') && !template.archived;
      const canManage = service.permissions.has('manage_templates') && !template.archived;
      const body = html`${pageAssets()}
${breadcrumbs(ui, service, path, true)}
<h1>${template.name}</h1>
${shown && notice(t(`templates.notice.${shown}`, { version: template.version }), 'success')}
${template.archived && notice(t('templates.archivedNotice'), 'warning')}
${
  canSend &&
  html`<p class="actions"><a class="button" href="${servicePath(service, `/send/${template.id}`)}">${t('templates.show.send')}</a>
  <a class="button secondary" href="${servicePath(service, `/send/${template.id}/upload`)}">${t('templates.show.upload')}</a></p>`
}
${templateSummary(ui, template)}
${templateBody(ui, service, template, { subject: template.subject, content: template.content, version: null })}
<ul class="action-links">
  <li><a href="${templatePath(service, template.id, '/preview')}">${t('templates.show.preview')}</a></li>
  ${canManage && html`<li><a href="${templatePath(service, template.id, '/edit')}">${t('templates.show.edit')}</a></li>`}
  ${service.permissions.has('manage_templates') && html`<li><a href="${templatePath(service, template.id, '/copy')}">${t('templates.show.copy')}</a></li>`}
  <li><a href="${templatePath(service, template.id, '/versions')}">${t('templates.show.versions')}</a></li>
  ${canManage && html`<li><a href="${templatePath(service, template.id, '/archive')}">${t('templates.show.archive')}</a></li>`}
</ul>`;
      return sendServicePage(reply, ui, service, 'templates', { title: template.name, body });
    },
  );

  function templateSummary(
    ui: UiContext,
    template: {
      type: TemplateType;
      category: TemplateCategory;
      version: number;
      updatedAt: Date | null;
      createdAt: Date;
    },
  ): Html {
    const { t } = ui;
    return html`<dl class="summary-list">
  <dt>${t('templates.show.type')}</dt><dd>${typeLabel(ui, template.type)}</dd>
  <dt>${t('templates.show.category')}</dt><dd>${categoryLabel(ui, template.category)}<span class="hint">${t(`templates.category.${template.category}.hint`)}</span></dd>
  <dt>${t('templates.show.version')}</dt><dd>${t('templates.show.versionValue', { version: template.version, date: ui.formatDateTime(template.updatedAt ?? template.createdAt) })}</dd>
</dl>`;
  }

  /** The message of a template (or one version of it) as recipients see it, placeholders left as written. */
  function templateBody(
    ui: UiContext,
    service: ServiceContext,
    template: { id: string; type: TemplateType },
    text: { subject: string | null; content: string; version: number | null },
  ): Html {
    const { t } = ui;
    if (template.type === 'sms') {
      return html`<h2>${t('templates.show.message')}</h2>
${phonePreview(ui, renderSms(text.content, {}).body, service.name)}
${smsCounter(ui, smsStats(text.content))}`;
    }
    const src = templatePath(
      service,
      template.id,
      `/preview/email.html${text.version ? `?version=${text.version}` : ''}`,
    );
    return html`<h2>${t('templates.show.message')}</h2>
<dl class="summary-list"><dt>${t('templates.field.subject.label')}</dt><dd>${text.subject ?? ''}</dd></dl>
${emailFrame(ui, src, text.subject ?? '')}`;
  }

  // ---- versions ---------------------------------------------------------------------------------------------

  app.get<{ Params: Params }>('/services/:serviceId/templates/:templateId/versions', member, async (request, reply) => {
    const { ui, service } = request;
    const { t } = ui;
    const template = await loadTemplate(request, reply);
    if (!template) return reply;
    const versions = await templateVersions(db, service.id, template.id);
    const title = t('templates.versions.title', { name: template.name });
    const body = html`<p><a href="${templatePath(service, template.id)}">${t('templates.back', { name: template.name })}</a></p>
<h1>${title}</h1>
<table>
  <caption>${t('templates.versions.caption', { count: versions.length })}</caption>
  <thead><tr><th scope="col">${t('templates.versions.version')}</th><th scope="col">${t('templates.versions.saved')}</th><th scope="col">${t('templates.versions.by')}</th><th scope="col">${t('templates.versions.name')}</th></tr></thead>
  <tbody>${versions.map(
    (v) => html`<tr>
    <td><a href="${templatePath(service, template.id, `/versions/${v.version}`)}">${t('templates.versions.label', { version: v.version })}</a>${v.version === template.version ? html` <span class="muted">${t('templates.versions.current')}</span>` : ''}</td>
    <td>${ui.formatDateTime(v.savedAt)}</td>
    <td>${v.savedBy ?? ''}</td>
    <td>${v.name}</td>
  </tr>`,
  )}</tbody>
</table>`;
    return sendServicePage(reply, ui, service, 'templates', { title, body });
  });

  app.get<{ Params: Params & { version: string } }>(
    '/services/:serviceId/templates/:templateId/versions/:version',
    member,
    async (request, reply) => {
      const { ui, service } = request;
      const { t } = ui;
      const template = await loadTemplate(request, reply);
      if (!template) return reply;
      const number = /^\d{1,9}$/.test(request.params.version) ? Number(request.params.version) : NaN;
      const version = Number.isFinite(number) ? await templateVersion(db, service.id, template.id, number) : null;
      if (!version) return notFound(request, reply);
      const title = t('templates.version.title', { name: version.name, version: version.version });
      const body = html`${pageAssets()}
<p><a href="${templatePath(service, template.id, '/versions')}">${t('templates.version.back')}</a></p>
<h1>${title}</h1>
<dl class="summary-list">
  <dt>${t('templates.versions.saved')}</dt><dd>${ui.formatDateTime(version.savedAt)}</dd>
  <dt>${t('templates.versions.by')}</dt><dd>${version.savedBy ?? ''}</dd>
  <dt>${t('templates.show.category')}</dt><dd>${categoryLabel(ui, version.category)}</dd>
</dl>
${templateBody(ui, service, template, { subject: version.subject, content: version.content, version: version.version })}
<h2>${t('templates.version.source')}</h2>
<pre class="template-source">${version.content}</pre>`;
      return sendServicePage(reply, ui, service, 'templates', { title, body });
    },
  );

  // ---- previews ---------------------------------------------------------------------------------------------

  app.get<{ Params: Params; Querystring: Record<string, string | undefined> }>(
    '/services/:serviceId/templates/:templateId/preview',
    member,
    async (request, reply) => {
      const { ui, service } = request;
      const { t } = ui;
      const template = await loadTemplate(request, reply);
      if (!template) return reply;
      const names = placeholderNames(
        ...(template.type === 'email' ? [template.subject ?? '', template.content] : [template.content]),
      );
      const values = placeholderValues(names, request.query);
      const title = t('templates.preview.title', { name: template.name });
      let shown: Html;
      if (template.type === 'email') {
        const query = new URLSearchParams(
          Object.entries(values).map(([k, v]) => [`${PLACEHOLDER_PREFIX}${k}`, v]),
        ).toString();
        const subject = renderEmailSubject(template.subject ?? '', values);
        shown = html`<dl class="summary-list"><dt>${t('templates.field.subject.label')}</dt><dd id="preview-subject">${subject}</dd></dl>
${emailFrame(ui, templatePath(service, template.id, `/preview/email.html${query ? `?${query}` : ''}`), subject)}`;
      } else {
        const sms = renderSms(template.content, values);
        shown = html`${phonePreview(ui, sms.body, service.name)}${smsCounter(ui, smsStats(template.content, values))}`;
      }
      const body = html`${pageAssets()}
<p><a href="${templatePath(service, template.id)}">${t('templates.back', { name: template.name })}</a></p>
<h1>${title}</h1>
${
  names.length > 0
    ? html`<form method="get" action="${templatePath(service, template.id, '/preview')}" class="preview-form">
  <fieldset><legend>${t('templates.preview.legend')}</legend>
  <p class="hint">${t('templates.preview.hint')}</p>
  ${placeholderFields(ui, names, values)}
  </fieldset>
  <div class="actions"><button type="submit">${t('templates.preview.submit')}</button></div>
</form>`
    : html`<p>${t('templates.preview.noPlaceholders')}</p>`
}
<h2>${t('templates.preview.heading')}</h2>
${shown}`;
      return sendServicePage(reply, ui, service, 'templates', { title, body });
    },
  );

  /** The rendered email alone, for the preview frame: its own CSP, and framing allowed by this site only. */
  app.get<{ Params: Params; Querystring: Record<string, string | undefined> }>(
    '/services/:serviceId/templates/:templateId/preview/email.html',
    { ...member, ...EMAIL_FRAME_ROUTE },
    async (request, reply) => {
      const { service } = request;
      const template = await templateOf(db, service.id, request.params.templateId);
      if (template?.type !== 'email') return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
      let text: { subject: string | null; content: string } = template;
      const wanted = request.query.version;
      if (wanted !== undefined) {
        const version = /^\d{1,9}$/.test(wanted)
          ? await templateVersion(db, service.id, template.id, Number(wanted))
          : null;
        if (!version) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
        text = version;
      }
      const names = placeholderNames(text.subject ?? '', text.content);
      const values = placeholderValues(names, request.query);
      const branding = emailBranding(await loadBranding(db, service.id), logoDataUrl);
      const document = renderEmailDocument({
        subject: renderEmailSubject(text.subject ?? '', values),
        bodyHtml: renderEmailHtml(text.content, values),
        lang: 'en',
        branding,
      });
      return reply.type('text/html; charset=utf-8').send(document);
    },
  );

  /** The text message alphabet for template-editor.js (the same for everyone, so cached). */
  app.get('/sms-alphabet.json', async (_request, reply) => {
    return reply
      .header('cache-control', 'public, max-age=3600')
      .type('application/json; charset=utf-8')
      .send(SMS_ALPHABET_JSON);
  });

  // ---- formatting guide -------------------------------------------------------------------------------------

  app.get<{ Params: { serviceId: string } }>(
    '/services/:serviceId/templates/formatting-guide',
    member,
    async (request, reply) => {
      const { ui, service } = request;
      const { t } = ui;
      const title = t('templates.guide.title');
      const rows = [
        'heading',
        'subheading',
        'bold',
        'bullets',
        'numbers',
        'inset',
        'link',
        'rule',
        'placeholder',
        'conditional',
        'bilingual',
      ];
      const body = html`<p><a href="${base(service)}">${t('templates.guide.back')}</a></p>
<h1>${title}</h1>
<p>${t('templates.guide.intro')}</p>
<table>
  <caption>${t('templates.guide.caption')}</caption>
  <thead><tr><th scope="col">${t('templates.guide.what')}</th><th scope="col">${t('templates.guide.type')}</th><th scope="col">${t('templates.guide.result')}</th></tr></thead>
  <tbody>${rows.map(
    (key) =>
      html`<tr><th scope="row">${t(`templates.guide.${key}.name`)}</th><td><pre class="template-source">${t(`templates.guide.${key}.example`)}</pre></td><td>${t(`templates.guide.${key}.result`)}</td></tr>`,
  )}</tbody>
</table>
<h2>${t('templates.guide.smsTitle')}</h2>
<p>${t('templates.guide.smsBody')}</p>`;
      return sendServicePage(reply, ui, service, 'templates', { title, body });
    },
  );
}

/** Where a folder or template sits: the top level, then each folder down to it. */
function breadcrumbs(ui: UiContext, service: ServiceContext, path: Folder[], includeLast = false): Html {
  const { t } = ui;
  const base = servicePath(service, '/templates');
  const shown = includeLast ? path : path.slice(0, -1);
  return html`<nav class="breadcrumbs" aria-label="${t('templates.breadcrumbs')}"><ol>
  <li><a href="${base}">${t('templates.list.title')}</a></li>
  ${shown.map((f) => html`<li><a href="${base}/folders/${f.id}">${f.name}</a></li>`)}
</ol></nav>`;
}
