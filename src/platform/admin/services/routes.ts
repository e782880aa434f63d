/**
 * `/services`: the services a person belongs to (and the way to switch between them), and the link of an invitation
 * to a team (`/invitation/:token`): join after signing in, or create an account there. Creating a service is a
 * product's page (`/services/new`).
 */
import type { FastifyInstance } from 'fastify';
import { requireUser } from '../../ui/guards.ts';
import type { AdminDeps } from '../../ui/admin-deps.ts';
import { memberServices } from '../../services/services.ts';
import { servicesPage } from './views.ts';
import { invitationLinkRoutes } from './invitations.ts';

export async function servicesRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const db = deps.services.database.db;

  app.get<{ Querystring: { done?: string } }>('/services', { preHandler: requireUser }, async (request, reply) => {
    const services = await memberServices(db, request.ui.account!.id);
    return servicesPage(reply, request.ui, services, request.query.done === 'joined');
  });

  await invitationLinkRoutes(app, deps);
}
