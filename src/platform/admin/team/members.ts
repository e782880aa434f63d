/** A member of a service's team: changing their permissions, and removing them from the team. */
import { isUuid } from '../../ids.ts';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { FieldError } from '../../ui/layout.ts';
import type { UiContext } from '../../ui/context.ts';
import type { ServiceContext } from '../../ui/service-context.ts';
import type { AdminDeps } from '../../ui/admin-deps.ts';
import { member, removeMember, setPermissions, TeamError } from '../../services/team.ts';
import { formList } from './forms.ts';
import { type Form, teamPath as path, teamScope } from './scope.ts';
import { memberPage } from './views.ts';

export async function memberRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const { db, directory, manager, actor } = teamScope(deps);

  /** The member's page, or back to the team when the URL names no member. */
  const showMember = async (
    reply: FastifyReply,
    ui: UiContext,
    service: ServiceContext,
    userId: string,
    v: { permissions?: string[]; errors?: FieldError[] },
    status = 200,
  ) => {
    const m = isUuid(userId) ? await member(db, service.id, userId.toLowerCase()) : null;
    if (!m) return reply.redirect(path(service), 303);
    return memberPage(reply, ui, service, m, v, status);
  };

  /** A change the team rules refused: shown on the member's page, or back to the team when they are gone. */
  const refused = (
    err: unknown,
    reply: FastifyReply,
    ui: UiContext,
    service: ServiceContext,
    userId: string,
    v: { permissions?: string[] },
  ) => {
    if (!(err instanceof TeamError)) throw err;
    if (err.code === 'not-member') return reply.redirect(path(service), 303);
    const errors = [{ field: 'permissions', message: ui.t(`team.error.${err.code}`) }];
    return showMember(reply, ui, service, userId, { ...v, errors }, 400);
  };

  app.get<{ Params: { serviceId: string; userId: string } }>(
    '/services/:serviceId/team/members/:userId',
    { preHandler: manager },
    async (request, reply) => showMember(reply, request.ui, request.service, request.params.userId, {}),
  );

  app.post<{ Params: { serviceId: string; userId: string }; Body: Form }>(
    '/services/:serviceId/team/members/:userId',
    { preHandler: manager },
    async (request, reply) => {
      const { ui, service } = request;
      const userId = request.params.userId.toLowerCase();
      if (!isUuid(userId)) return reply.redirect(path(service), 303);
      const permissions = formList(request.body.permissions);
      try {
        await setPermissions(db, { serviceId: service.id, userId, permissions, ...actor(request) });
      } catch (err) {
        return refused(err, reply, ui, service, userId, { permissions });
      }
      directory.invalidate(service.id);
      return reply.redirect(`${path(service)}?done=permissions`, 303);
    },
  );

  app.post<{ Params: { serviceId: string; userId: string } }>(
    '/services/:serviceId/team/members/:userId/remove',
    { preHandler: manager },
    async (request, reply) => {
      const { ui, service } = request;
      const userId = request.params.userId.toLowerCase();
      if (!isUuid(userId)) return reply.redirect(path(service), 303);
      try {
        await removeMember(db, { serviceId: service.id, userId, ...actor(request) });
      } catch (err) {
        return refused(err, reply, ui, service, userId, {});
      }
      directory.invalidate(service.id);
      // Someone who removed themselves can no longer see the team.
      if (userId === ui.account!.id && !ui.account!.platformAdmin) return reply.redirect('/services', 303);
      return reply.redirect(`${path(service)}?done=removed`, 303);
    },
  );
}
