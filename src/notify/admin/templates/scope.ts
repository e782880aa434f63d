/** What every templates route shares: its guards, its paths, and loading the template of the URL. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { NotifyAdminDeps } from '../admin-deps.ts';
import type { Db } from '../../../platform/database/connection.ts';
import { requireService, type ServiceContext } from '../../../platform/ui/service-context.ts';
import { servicePath, sendServiceNotFound } from '../../../platform/ui/service-layout.ts';
import { templateOf, type TemplateDetail } from '../../templates/templates.ts';

export type Form = Record<string, string | undefined>;
export type Params = { serviceId: string; templateId: string };

export const SUBJECT_MAX = 1000;
export const TEMPLATE_NOTICES = ['created', 'saved', 'unchanged', 'folder-created', 'archived'] as const;

export type TemplateScope = ReturnType<typeof templateScope>;

export function templateScope(deps: NotifyAdminDeps) {
  const db = deps.services.database.db;
  const directory = deps.services.directory;
  const member = { preHandler: requireService(db) };
  const manager = { preHandler: requireService(db, 'manage_templates') };

  const base = (service: ServiceContext) => servicePath(service, '/templates');
  const templatePath = (service: ServiceContext, id: string, rest = '') => `${base(service)}/${id}${rest}`;

  const loadTemplate = (request: FastifyRequest<{ Params: Params }>, reply: FastifyReply) =>
    templateOfUrl(db, request, reply);

  const notFound = (request: FastifyRequest, reply: FastifyReply): FastifyReply =>
    sendServiceNotFound(reply, request.ui, request.service, 'templates');
  return { db, directory, member, manager, base, templatePath, loadTemplate, notFound };
}

/** The service's template named by the URL, or null once a 404 page is sent. */
export async function templateOfUrl(
  db: Db,
  request: FastifyRequest<{ Params: Params }>,
  reply: FastifyReply,
): Promise<TemplateDetail | null> {
  const template = await templateOf(db, request.service.id, request.params.templateId);
  if (!template) sendServiceNotFound(reply, request.ui, request.service, 'templates');
  return template;
}
