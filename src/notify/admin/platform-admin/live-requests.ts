/** The requests to go live waiting for a decision, and deciding one; the requester hears of it by email. */
import type { FastifyInstance } from 'fastify';
import type { NotifyAdminDeps } from '../admin-deps.ts';
import { decideGoLive, pendingGoLiveRequests, type GoLiveRequest } from '../../settings/go-live.ts';
import { SettingsError } from '../../settings/settings-error.ts';
import { actor, DONE, type Form, idOf, type ShowService } from './scope.ts';
import { liveRequestsPage } from './views.ts';

export async function liveRequestRoutes(
  app: FastifyInstance,
  deps: NotifyAdminDeps,
  showService: ShowService,
): Promise<void> {
  const db = deps.services.database.db;
  const { directory } = deps.services;

  app.get<{ Querystring: { done?: string } }>('/platform-admin/live-requests', async (request, reply) => {
    const requests = await pendingGoLiveRequests(db);
    return liveRequestsPage(
      reply,
      request.ui,
      requests,
      DONE.find((d) => d === request.query.done),
    );
  });

  for (const decision of ['approve', 'decline'] as const) {
    app.post<{ Params: { requestId: string }; Body: Form }>(
      `/platform-admin/live-requests/:requestId/${decision}`,
      async (request, reply) => {
        const { ui } = request;
        const requestId = idOf(request.params.requestId);
        if (!requestId) return reply.redirect('/platform-admin/live-requests', 303);
        const reason = (request.body.reason ?? '').trim();
        let decided: GoLiveRequest | null;
        try {
          decided = await decideGoLive(db, { requestId, approve: decision === 'approve', reason, ...actor(request) });
        } catch (err) {
          if (!(err instanceof SettingsError)) throw err;
          const pending = (await pendingGoLiveRequests(db)).find((r) => r.id === requestId);
          if (!pending) return reply.redirect('/platform-admin/live-requests', 303);
          return showService(
            reply,
            ui,
            pending.serviceId,
            { reason, errors: [{ field: 'reason', message: ui.t('platformServices.requests.reasonMissing') }] },
            400,
          );
        }
        if (!decided) return reply.redirect('/platform-admin/live-requests', 303);
        directory.invalidate(decided.serviceId);
        if (decided.requestedBy) {
          const to = decided.requestedBy;
          const link = `${deps.siteRoot()}/services/${decided.serviceId}/settings`;
          if (decision === 'approve')
            await deps.messages.deliver('go-live-approved', to.language, to.email, {
              name: to.name,
              service: decided.serviceName,
              link,
            });
          else
            await deps.messages.deliver('go-live-declined', to.language, to.email, {
              name: to.name,
              service: decided.serviceName,
              reason,
              link,
            });
        }
        return reply.redirect(
          `/platform-admin/services/${decided.serviceId}?done=${decision === 'approve' ? 'approved' : 'declined'}`,
          303,
        );
      },
    );
  }
}
