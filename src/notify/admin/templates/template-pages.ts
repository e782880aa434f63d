/** One template: its page, archiving it, and its version history. */
import type { FastifyInstance } from 'fastify';
import type { NotifyAdminDeps } from '../admin-deps.ts';
import { html } from '../../../platform/ui/html.ts';
import { csrfField, notice } from '../../../platform/ui/layout.ts';
import { sendServicePage, servicePath } from '../../../platform/ui/service-layout.ts';
import { archiveTemplate, folderPath, templateVersion, templateVersions } from '../../templates/templates.ts';
import { categoryLabel, pageAssets, templateBody, templateSummary } from './views.ts';
import { breadcrumbs } from './views.ts';
import { templateScope, TEMPLATE_NOTICES, type Params } from './scope.ts';

export async function templatePageRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  await archiveRoutes(app, deps);
  await templateViewRoutes(app, deps);
  await versionRoutes(app, deps);
}

/** Archiving a template. */
async function archiveRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  const { db, directory, manager, base, templatePath, loadTemplate } = templateScope(deps);

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
}

/** A template's page. */
async function templateViewRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  const { db, member, templatePath, loadTemplate } = templateScope(deps);

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
}

/** A template's version history, and one version. */
async function versionRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  const { db, member, templatePath, loadTemplate, notFound } = templateScope(deps);

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
}
