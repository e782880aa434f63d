/** The template list and its folders: listing, opening and creating folders. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { NotifyAdminDeps } from '../admin-deps.ts';
import { html } from '../../../platform/ui/html.ts';
import { csrfField, errorSummary, notice, textInput, type FieldError } from '../../../platform/ui/layout.ts';
import { sendServicePage } from '../../../platform/ui/service-layout.ts';
import {
  createFolder,
  folderContents,
  folderOf,
  folderPath,
  FOLDER_NAME_MAX,
  TemplateError,
  type Folder,
} from '../../templates/templates.ts';
import { pageAssets, typeLabel } from './views.ts';
import { breadcrumbs } from './views.ts';
import { templateScope, TEMPLATE_NOTICES, type Form, type TemplateScope } from './scope.ts';

export async function folderRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  const scope = templateScope(deps);
  listRoutes(app, scope);
  newFolderRoutes(app, scope);
}

/** The template list: at the top, or inside a folder. */
function listRoutes(app: FastifyInstance, scope: TemplateScope): void {
  const { db, member, notFound } = scope;

  app.get<{ Params: { serviceId: string }; Querystring: { notice?: string } }>(
    '/services/:serviceId/templates',
    member,
    async (request, reply) => {
      return listPage(
        scope,
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
        scope,
        request,
        reply,
        folder,
        TEMPLATE_NOTICES.find((n) => n === request.query.notice),
      );
    },
  );
}

/** The form for a new folder, and creating it. */
function newFolderRoutes(app: FastifyInstance, scope: TemplateScope): void {
  const { db, manager, base, notFound } = scope;

  app.get<{ Params: { serviceId: string }; Querystring: { parent?: string } }>(
    '/services/:serviceId/templates/folders/new',
    manager,
    async (request, reply) => {
      const parent = request.query.parent ? await folderOf(db, request.service.id, request.query.parent) : null;
      return folderForm(scope, request, reply, parent);
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
      return folderForm(scope, request, reply, parent, { name, errors: [{ field: 'name', message: error }] }, 400);
    },
  );
}

async function listPage(
  scope: TemplateScope,
  request: FastifyRequest,
  reply: FastifyReply,
  folder: Folder | null,
  shownNotice?: string,
) {
  const { db, base, templatePath } = scope;
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

function folderForm(
  scope: TemplateScope,
  request: FastifyRequest,
  reply: FastifyReply,
  parent: Folder | null,
  opts: { name?: string; errors?: FieldError[] } = {},
  status = 200,
) {
  const { base } = scope;
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
