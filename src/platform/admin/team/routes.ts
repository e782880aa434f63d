/**
 * A service's team (`/services/:serviceId/team`): members and their permissions, invitations sent through Envoi,
 * and what products add below (AdminDeps' teamSections). Every member sees the page; changing anything needs
 * manage_service.
 */
import type { FastifyInstance } from 'fastify';
import type { AdminDeps } from '../../ui/admin-deps.ts';
import { listMembers, pendingInvitations } from '../../services/team.ts';
import { DONE, teamScope } from './scope.ts';
import { teamPage } from './views.ts';
import { invitationRoutes } from './invitations.ts';
import { memberRoutes } from './members.ts';

export async function teamRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const { db, anyMember } = teamScope(deps);

  app.get<{ Params: { serviceId: string }; Querystring: { done?: string } }>(
    '/services/:serviceId/team',
    { preHandler: anyMember },
    async (request, reply) => {
      const { service } = request;
      const [members, invitations, ...sections] = await Promise.all([
        listMembers(db, service.id),
        pendingInvitations(db, service.id),
        ...deps.teamSections.map((section) => section(db, request.ui, service)),
      ]);
      const done = DONE.find((d) => d === request.query.done);
      return teamPage(reply, request.ui, service, { members, invitations, sections, done });
    },
  );

  await invitationRoutes(app, deps);
  await memberRoutes(app, deps);
}
