/**
 * `/services`: the services a person belongs to (and the way to switch between them), creating a service, and
 * the link of an invitation to a team (`/invitation/:token`): join after signing in, or create an account there.
 */
import type { FastifyInstance } from 'fastify';
import { requireUser } from '../../ui/guards.ts';
import type { AdminDeps } from '../../ui/admin-deps.ts';
import { createService, memberServices, ServiceError } from '../../services/services.ts';
import { newServicePage, servicesPage } from './views.ts';
import { invitationLinkRoutes } from './invitations.ts';
type Form = Record<string, string | undefined>;

export async function servicesRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const db = deps.services.database.db;

  app.get<{ Querystring: { done?: string } }>('/services', { preHandler: requireUser }, async (request, reply) => {
    const services = await memberServices(db, request.ui.account!.id);
    return servicesPage(reply, request.ui, services, request.query.done === 'joined');
  });

  app.get('/services/new', { preHandler: requireUser }, async (request, reply) =>
    newServicePage(reply, request.ui, {}),
  );

  app.post<{ Body: Form }>('/services/new', { preHandler: requireUser }, async (request, reply) => {
    const { ui } = request;
    const name = (request.body.name ?? '').trim();
    const localPart = (request.body.email_sender ?? '').trim();
    try {
      const id = await createService(db, { name, localPart, creatorId: ui.account!.id, ip: request.ip });
      return reply.redirect(`/services/${id}`, 303);
    } catch (err) {
      if (!(err instanceof ServiceError)) throw err;
      const field = err.code.startsWith('local-part') ? 'email_sender' : 'name';
      return newServicePage(
        reply,
        ui,
        { name, localPart, errors: [{ field, message: ui.t(`services.error.${err.code}`) }] },
        400,
      );
    }
  });

  await invitationLinkRoutes(app, deps);
}
