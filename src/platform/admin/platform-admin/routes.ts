/**
 * Platform admin pages: the people with accounts (unlock, recover a lost second step) and the audit log of
 * security events, paged and filtered by person and event.
 */
import type { FastifyInstance } from 'fastify';
import { requirePlatformAdmin } from '../../ui/guards.ts';
import type { AdminDeps } from '../../ui/admin-deps.ts';
import { listAudit } from '../../audit.ts';
import { readAuditQuery, uuidOrNull } from './forms.ts';
import { auditPage, platformAdminPage, usersPage } from './views.ts';
const PAGE_SIZE = 50;

export async function platformAdminRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const { accounts } = deps;
  app.addHook('preHandler', async (request, reply) => {
    if (request.url.startsWith('/platform-admin')) return requirePlatformAdmin(request, reply);
  });

  app.get('/platform-admin', async (request, reply) => platformAdminPage(reply, request.ui));

  app.get<{ Querystring: { done?: string } }>('/platform-admin/users', async (request, reply) => {
    const people = await accounts.list();
    const done = ['unlocked', 'two-step-reset'].find((d) => d === request.query.done);
    return usersPage(reply, request.ui, people, done);
  });

  app.post<{ Params: { id: string } }>('/platform-admin/users/:id/unlock', async (request, reply) => {
    const target = await accounts.byId(uuidOrNull(request.params.id));
    if (!target) return reply.redirect('/platform-admin/users', 303);
    await accounts.unlock(target.id, request.ui.account!.id, request.ip);
    return reply.redirect('/platform-admin/users?done=unlocked', 303);
  });

  app.post<{ Params: { id: string } }>('/platform-admin/users/:id/reset-two-step', async (request, reply) => {
    const target = await accounts.byId(uuidOrNull(request.params.id));
    if (!target) return reply.redirect('/platform-admin/users', 303);
    await accounts.resetSecondFactor(target.id, request.ui.account!.id, request.ip);
    return reply.redirect('/platform-admin/users?done=two-step-reset', 303);
  });

  app.get<{ Querystring: { user?: string; event?: string; page?: string } }>(
    '/platform-admin/audit',
    async (request, reply) => {
      const filter = readAuditQuery(request.query);
      const found = await listAudit(deps.services.database.db, {
        user: filter.user || undefined,
        event: filter.event || undefined,
        page: filter.page,
        pageSize: PAGE_SIZE,
      });
      return auditPage(reply, request.ui, filter, found);
    },
  );
}
