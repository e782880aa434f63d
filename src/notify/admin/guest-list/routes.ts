/**
 * A service's guest list (`/services/:serviceId/team/guest-list`, under its team): every member sees it; adding and
 * removing needs manage_service. The team page shows its summary (guestListSection).
 */
import { isUuid } from '../../../platform/ids.ts';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { FieldError } from '../../../platform/ui/layout.ts';
import type { UiContext } from '../../../platform/ui/context.ts';
import type { ServiceContext } from '../../../platform/ui/service-context.ts';
import type { TeamPageSection } from '../../../platform/ui/admin-deps.ts';
import { formText } from '../../../platform/admin/team/forms.ts';
import { DONE, type Form, teamPath as path, teamScope } from '../../../platform/admin/team/scope.ts';
import type { NotifyAdminDeps } from '../admin-deps.ts';
import { addGuest, GuestListError, listGuests, removeGuest } from '../../settings/guest-list.ts';
import { guestListPage, guestListSummary } from './views.ts';

/** The team page's part about the guest list. */
export const guestListSection: TeamPageSection = async (db, ui, service) =>
  guestListSummary(ui, service, await listGuests(db, service.id));

export async function guestListRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  const { db, directory, anyMember, manager } = teamScope(deps);

  const showGuests = async (
    reply: FastifyReply,
    ui: UiContext,
    service: ServiceContext,
    v: { recipient?: string; errors?: FieldError[]; done?: string },
    status = 200,
  ) => guestListPage(reply, ui, service, await listGuests(db, service.id), v, status);

  app.get<{ Params: { serviceId: string }; Querystring: { done?: string } }>(
    '/services/:serviceId/team/guest-list',
    { preHandler: anyMember },
    async (request, reply) =>
      showGuests(reply, request.ui, request.service, { done: DONE.find((d) => d === request.query.done) }),
  );

  app.post<{ Params: { serviceId: string }; Body: Form }>(
    '/services/:serviceId/team/guest-list',
    { preHandler: manager },
    async (request, reply) => {
      const { ui, service } = request;
      const recipient = formText(request.body.recipient);
      if (!recipient)
        return showGuests(
          reply,
          ui,
          service,
          { recipient, errors: [{ field: 'recipient', message: ui.t('team.error.recipient-missing') }] },
          400,
        );
      try {
        await addGuest(db, { serviceId: service.id, recipient, phoneRegion: deps.services.config.phoneRegion });
      } catch (err) {
        if (!(err instanceof GuestListError)) throw err;
        return showGuests(
          reply,
          ui,
          service,
          { recipient, errors: [{ field: 'recipient', message: ui.t(`team.error.${err.code}`) }] },
          400,
        );
      }
      directory.invalidate(service.id);
      return reply.redirect(`${path(service, '/guest-list')}?done=guest-added`, 303);
    },
  );

  app.post<{ Params: { serviceId: string; guestId: string } }>(
    '/services/:serviceId/team/guest-list/:guestId/remove',
    { preHandler: manager },
    async (request, reply) => {
      const { service } = request;
      if (isUuid(request.params.guestId)) await removeGuest(db, service.id, request.params.guestId.toLowerCase());
      directory.invalidate(service.id);
      return reply.redirect(`${path(service, '/guest-list')}?done=guest-removed`, 303);
    },
  );
}
