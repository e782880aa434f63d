/** A service's guest list: every member sees it; adding and removing needs manage_service. */
import { isUuid } from '../../ids.ts';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { FieldError } from '../../ui/layout.ts';
import type { UiContext } from '../../ui/context.ts';
import type { ServiceContext } from '../../ui/service-context.ts';
import type { AdminDeps } from '../../ui/admin-deps.ts';
import { addGuest, listGuests, removeGuest, TeamError } from '../../services/team.ts';
import { formText } from './forms.ts';
import { DONE, type Form, teamPath as path, teamScope } from './scope.ts';
import { guestListPage } from './views.ts';

export async function guestListRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
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
        if (!(err instanceof TeamError)) throw err;
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
