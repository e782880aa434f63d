/** Creating, editing and copying a template (each save a new version). */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { NotifyAdminDeps } from '../admin-deps.ts';
import type { FieldError } from '../../../platform/ui/layout.ts';
import { sendServicePage } from '../../../platform/ui/service-layout.ts';
import {
  allFolders,
  createTemplate,
  folderOf,
  TemplateError,
  TEMPLATE_NAME_MAX,
  updateTemplate,
} from '../../templates/templates.ts';
import { readTemplateFields } from './forms.ts';
import { editorBody, type EditorOptions, editorTitle, templateTypeBody } from './views.ts';
import { templateScope, type Params, type Form } from './scope.ts';

export async function editorRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  await newTemplateRoutes(app, deps);
  await editTemplateRoutes(app, deps);
}

/** The templates scope, with the editor's page. */
function editorScope(deps: NotifyAdminDeps) {
  const scope = templateScope(deps);
  const { db } = scope;

  async function editorPage(request: FastifyRequest, reply: FastifyReply, opts: EditorOptions, status = 200) {
    const { ui, service } = request;
    const folders = await allFolders(db, service.id);
    const title = editorTitle(ui, opts);
    const body = editorBody(ui, service, opts, folders);
    return sendServicePage(reply, ui, service, 'templates', { title, body, errors: opts.errors }, status);
  }
  return { ...scope, editorPage };
}

/** A new template: its kind first, then the editor. */
async function newTemplateRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  const { db, directory, manager, base, templatePath, notFound, editorPage } = editorScope(deps);

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
      const body = templateTypeBody(ui, service, folder, errors);
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
      const { fields, folderId, errors } = readTemplateFields(ui, type, request.body);
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
}

/** Editing a template (each save a new version), and copying one into a new template. */
async function editTemplateRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  const { db, directory, manager, templatePath, loadTemplate, notFound, editorPage } = editorScope(deps);

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
      const { fields, folderId, errors } = readTemplateFields(ui, template.type, request.body);
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
