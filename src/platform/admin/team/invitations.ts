/** Inviting someone to a service's team (the invitation goes out through Envoi), and cancelling an invitation. */
import { isUuid } from '../../ids.ts';
import type { FastifyInstance } from 'fastify';
import type { AdminDeps } from '../../ui/admin-deps.ts';
import { cancelInvitation, createInvitation, TeamError } from '../../services/team.ts';
import { readInvitation } from './forms.ts';
import { type Form, teamPath as path, teamScope } from './scope.ts';
import { invitePage } from './views.ts';

export async function invitationRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const { db, manager, actor } = teamScope(deps);

  app.get<{ Params: { serviceId: string } }>(
    '/services/:serviceId/team/invite',
    { preHandler: manager },
    async (request, reply) => invitePage(reply, request.ui, request.service, {}),
  );

  app.post<{ Params: { serviceId: string }; Body: Form }>(
    '/services/:serviceId/team/invite',
    { preHandler: manager },
    async (request, reply) => {
      const { ui, service } = request;
      const { email, permissions, errors } = readInvitation(ui, request.body);
      if (errors.length) return invitePage(reply, ui, service, { email, permissions, errors }, 400);
      try {
        const { invitation, token } = await createInvitation(db, {
          serviceId: service.id,
          email,
          permissions,
          ...actor(request),
        });
        const existing = await deps.accounts.byEmail(invitation.email);
        await deps.messages.deliver('team-invitation', existing?.language ?? ui.locale, invitation.email, {
          inviter: ui.account!.name,
          service: service.name,
          link: `${deps.siteRoot()}/invitation/${token}`,
        });
      } catch (err) {
        if (!(err instanceof TeamError)) throw err;
        const field = err.code === 'no-permissions' ? 'permissions' : 'email';
        return invitePage(
          reply,
          ui,
          service,
          { email, permissions, errors: [{ field, message: ui.t(`team.error.${err.code}`) }] },
          400,
        );
      }
      return reply.redirect(`${path(service)}?done=invited`, 303);
    },
  );

  app.post<{ Params: { serviceId: string; invitationId: string } }>(
    '/services/:serviceId/team/invitations/:invitationId/cancel',
    { preHandler: manager },
    async (request, reply) => {
      const { service } = request;
      if (isUuid(request.params.invitationId))
        await cancelInvitation(db, {
          serviceId: service.id,
          invitationId: request.params.invitationId.toLowerCase(),
          ...actor(request),
        });
      return reply.redirect(`${path(service)}?done=cancelled`, 303);
    },
  );
}
