/**
 * Platform admin pages about services: every service with what it sent in the last 7 days, its mode and state;
 * one service's page (daily limits, suspend and restore, its request to go live); the requests waiting for a
 * decision. The requester hears of the decision by email, through Envoi.
 */
import type { FastifyInstance } from 'fastify';
import { requirePlatformAdmin } from '../../../platform/ui/guards.ts';
import type { NotifyAdminDeps } from '../admin-deps.ts';
import { setServiceActive } from '../../../platform/services/services.ts';
import { setDailyLimits } from '../../settings/daily-limits.ts';
import { latestGoLiveRequest } from '../../settings/go-live.ts';
import { serviceSettings } from '../../settings/service-settings.ts';
import { allServicesWithVolumes } from '../../settings/service-volumes.ts';
import { SYSTEM_SERVICE_ID } from '../../../platform/accounts/account-messages.ts';
import { readLimits } from './forms.ts';
import { actor, DONE, type Form, idOf, type ShowService } from './scope.ts';
import { allServicesPage, servicePage } from './views.ts';
import { liveRequestRoutes } from './live-requests.ts';

export async function platformServicesRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  const db = deps.services.database.db;
  const { directory } = deps.services;
  app.addHook('preHandler', requirePlatformAdmin);

  app.get('/platform-admin/services', async (request, reply) => {
    const services = (await allServicesWithVolumes(db)).filter((s) => s.id !== SYSTEM_SERVICE_ID);
    return allServicesPage(reply, request.ui, services);
  });

  /** The service's page, or the list of services when there is no such service. */
  const showService: ShowService = async (reply, ui, serviceId, v, status = 200) => {
    const s = await serviceSettings(db, serviceId);
    if (!s) return reply.redirect('/platform-admin/services', 303);
    const latest = await latestGoLiveRequest(db, serviceId);
    return servicePage(reply, ui, s, latest, v, status);
  };

  app.get<{ Params: { serviceId: string }; Querystring: { done?: string } }>(
    '/platform-admin/services/:serviceId',
    async (request, reply) => {
      const serviceId = idOf(request.params.serviceId);
      if (!serviceId) return reply.redirect('/platform-admin/services', 303);
      return showService(reply, request.ui, serviceId, { done: DONE.find((d) => d === request.query.done) });
    },
  );

  app.post<{ Params: { serviceId: string }; Body: Form }>(
    '/platform-admin/services/:serviceId/limits',
    async (request, reply) => {
      const serviceId = idOf(request.params.serviceId);
      if (!serviceId) return reply.redirect('/platform-admin/services', 303);
      const { limits, errors } = readLimits(request.ui, request.body);
      if (errors.length) return showService(reply, request.ui, serviceId, { limits, errors }, 400);
      await setDailyLimits(db, { serviceId, ...limits, ...actor(request) });
      directory.invalidate(serviceId);
      return reply.redirect(`/platform-admin/services/${serviceId}?done=limits`, 303);
    },
  );

  for (const action of ['suspend', 'restore'] as const) {
    app.post<{ Params: { serviceId: string } }>(
      `/platform-admin/services/:serviceId/${action}`,
      async (request, reply) => {
        const serviceId = idOf(request.params.serviceId);
        if (!serviceId || serviceId === SYSTEM_SERVICE_ID) return reply.redirect('/platform-admin/services', 303);
        await setServiceActive(db, { serviceId, active: action === 'restore', ...actor(request) });
        directory.invalidate(serviceId);
        return reply.redirect(
          `/platform-admin/services/${serviceId}?done=${action === 'restore' ? 'restored' : 'suspended'}`,
          303,
        );
      },
    );
  }

  await liveRequestRoutes(app, deps, showService);
}
