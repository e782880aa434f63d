/** `/services/new`: creating a service, in trial mode, with the address its emails come from. */
import type { FastifyInstance } from 'fastify';
import { requireUser } from '../../../platform/ui/guards.ts';
import { ServiceError } from '../../../platform/services/services.ts';
import type { NotifyAdminDeps } from '../admin-deps.ts';
import { createNotifyService } from '../../settings/service-settings.ts';
import { SettingsError } from '../../settings/settings-error.ts';
import { newServicePage } from './views.ts';
type Form = Record<string, string | undefined>;

export async function newServiceRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  const db = deps.services.database.db;

  app.get('/services/new', { preHandler: requireUser }, async (request, reply) =>
    newServicePage(reply, request.ui, {}),
  );

  app.post<{ Body: Form }>('/services/new', { preHandler: requireUser }, async (request, reply) => {
    const { ui } = request;
    const name = (request.body.name ?? '').trim();
    const localPart = (request.body.email_sender ?? '').trim();
    try {
      const id = await createNotifyService(db, { name, localPart, creatorId: ui.account!.id, ip: request.ip });
      return reply.redirect(`/services/${id}`, 303);
    } catch (err) {
      if (!(err instanceof ServiceError) && !(err instanceof SettingsError)) throw err;
      const field = err.code.startsWith('local-part') ? 'email_sender' : 'name';
      return newServicePage(
        reply,
        ui,
        { name, localPart, errors: [{ field, message: ui.t(`services.error.${err.code}`) }] },
        400,
      );
    }
  });
}
