/**
 * A service's team (`/services/:serviceId/team`): members and their permissions, invitations sent through Envoi,
 * and the guest list. Every member sees the page; changing anything needs manage_service.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html } from '../../ui/html.ts';
import { csrfField, errorSummary, notice, textInput, type FieldError } from '../../ui/layout.ts';
import type { UiContext } from '../../ui/context.ts';
import { requireService, type ServiceContext } from '../../ui/service-context.ts';
import { sendServicePage, servicePath } from '../../ui/service-layout.ts';
import type { AdminDeps } from '../../ui/admin-deps.ts';
import {
  addGuest,
  cancelInvitation,
  createInvitation,
  listGuests,
  listMembers,
  member,
  pendingInvitations,
  removeGuest,
  removeMember,
  setPermissions,
  TeamError,
} from '../../services/team.ts';
import { formList, formText } from './forms.ts';
import { permissionCheckboxes, permissionList } from './views.ts';
export type Form = Record<string, string | string[] | undefined>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DONE = ['invited', 'cancelled', 'permissions', 'removed', 'guest-added', 'guest-removed', 'joined'] as const;

export async function teamRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const db = deps.services.database.db;
  const { directory } = deps.services;
  const anyMember = requireService(db);
  const manager = requireService(db, 'manage_service');
  const path = (s: ServiceContext, p = '') => servicePath(s, `/team${p}`);
  const actor = (request: FastifyRequest) => ({ actorId: request.ui.account!.id, ip: request.ip });

  app.get<{ Params: { serviceId: string }; Querystring: { done?: string } }>(
    '/services/:serviceId/team',
    { preHandler: anyMember },
    async (request, reply) => {
      const { ui, service } = request;
      const { t } = ui;
      const canManage = service.permissions.has('manage_service');
      const [members, invitations, guests] = await Promise.all([
        listMembers(db, service.id),
        pendingInvitations(db, service.id),
        listGuests(db, service.id),
      ]);
      const done = DONE.find((d) => d === request.query.done);
      return sendServicePage(reply, ui, service, 'team', {
        title: t('team.title'),
        body: html`${done && notice(html`<p>${t(`team.done.${done}`)}</p>`, 'success')}
<h1>${t('team.title')}</h1>
${canManage && html`<p><a class="button" href="${path(service, '/invite')}">${t('team.invite.title')}</a></p>`}
<table>
  <caption>${t('team.members.caption', { count: ui.formatNumber(members.length) })}</caption>
  <thead><tr><th scope="col">${t('field.name.label')}</th><th scope="col">${t('field.email.label')}</th><th scope="col">${t('team.field.permissions')}</th>${canManage && html`<th scope="col">${t('team.actions')}</th>`}</tr></thead>
  <tbody>${members.map(
    (m) =>
      html`<tr><td>${m.name}</td><td>${m.email}</td><td>${permissionList(ui, m.permissions)}</td>${canManage && html`<td><a href="${path(service, `/members/${m.userId}`)}">${t('team.edit')}<span class="visually-hidden"> ${m.name}</span></a></td>`}</tr>`,
  )}</tbody>
</table>
${
  invitations.length > 0 &&
  html`<h2>${t('team.invitations.title')}</h2>
<table>
  <caption class="visually-hidden">${t('team.invitations.title')}</caption>
  <thead><tr><th scope="col">${t('field.email.label')}</th><th scope="col">${t('team.field.permissions')}</th><th scope="col">${t('team.invitations.expires')}</th>${canManage && html`<th scope="col">${t('team.actions')}</th>`}</tr></thead>
  <tbody>${invitations.map(
    (i) =>
      html`<tr><td>${i.email}</td><td>${permissionList(ui, i.permissions)}</td><td>${ui.formatDateTime(i.expiresAt)}</td>${
        canManage &&
        html`<td><form method="post" action="${path(service, `/invitations/${i.id}/cancel`)}">${csrfField(ui)}<button type="submit" class="secondary">${t('team.invitations.cancel')}<span class="visually-hidden"> ${i.email}</span></button></form></td>`
      }</tr>`,
  )}</tbody>
</table>`
}
<h2>${t('team.guests.title')}</h2>
<p>${t('team.guests.intro')}</p>
<p>${t('team.guests.count', { count: ui.formatNumber(guests.length) })} <a href="${path(service, '/guest-list')}">${canManage ? t('team.guests.manage') : t('team.guests.view')}</a></p>`,
      });
    },
  );

  // ---- invitations ------------------------------------------------------------------------------------------

  const invitePage = (
    reply: FastifyReply,
    ui: UiContext,
    service: ServiceContext,
    v: { email?: string; permissions?: string[]; errors?: FieldError[] },
    status = 200,
  ) =>
    sendServicePage(
      reply,
      ui,
      service,
      'team',
      {
        title: ui.t('team.invite.title'),
        errors: v.errors,
        body: html`${errorSummary(ui, v.errors)}
<h1>${ui.t('team.invite.title')}</h1>
<p>${ui.t('team.invite.intro')}</p>
<form method="post" action="${path(service, '/invite')}" novalidate>
  ${csrfField(ui)}
  ${textInput({ id: 'email', label: ui.t('field.email.label'), type: 'email', value: v.email, autocomplete: 'off', errors: v.errors })}
  ${permissionCheckboxes(ui, v.permissions ?? ['send_messages', 'view_activity'], v.errors)}
  <button type="submit">${ui.t('team.invite.submit')}</button>
</form>`,
      },
      status,
    );

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
      const email = formText(request.body.email);
      const permissions = formList(request.body.permissions);
      const errors: FieldError[] = [];
      if (!email) errors.push({ field: 'email', message: ui.t('team.error.email-missing') });
      if (permissions.length === 0) errors.push({ field: 'permissions', message: ui.t('team.error.no-permissions') });
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
          link: `${deps.siteRoot(request)}/invitation/${token}`,
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
      if (UUID.test(request.params.invitationId))
        await cancelInvitation(db, {
          serviceId: service.id,
          invitationId: request.params.invitationId.toLowerCase(),
          ...actor(request),
        });
      return reply.redirect(`${path(service)}?done=cancelled`, 303);
    },
  );

  // ---- a member's permissions ---------------------------------------------------------------------------------

  const memberPage = async (
    reply: FastifyReply,
    ui: UiContext,
    service: ServiceContext,
    userId: string,
    v: { permissions?: string[]; errors?: FieldError[] },
    status = 200,
  ) => {
    const m = UUID.test(userId) ? await member(db, service.id, userId.toLowerCase()) : null;
    if (!m) return reply.redirect(path(service), 303);
    const { t } = ui;
    return sendServicePage(
      reply,
      ui,
      service,
      'team',
      {
        title: t('team.member.title', { name: m.name }),
        errors: v.errors,
        body: html`${errorSummary(ui, v.errors)}
<h1>${t('team.member.title', { name: m.name })}</h1>
<p>${m.email}</p>
<form method="post" action="${path(service, `/members/${m.userId}`)}" novalidate>
  ${csrfField(ui)}
  ${permissionCheckboxes(ui, v.permissions ?? m.permissions, v.errors)}
  <button type="submit">${t('team.member.save')}</button>
</form>
<h2>${t('team.member.removeTitle')}</h2>
<p>${t('team.member.removeIntro', { name: m.name, service: service.name })}</p>
<form method="post" action="${path(service, `/members/${m.userId}/remove`)}">${csrfField(ui)}<button type="submit" class="danger">${t('team.member.remove')}</button></form>
<p><a href="${path(service)}">${t('team.back')}</a></p>`,
      },
      status,
    );
  };

  app.get<{ Params: { serviceId: string; userId: string } }>(
    '/services/:serviceId/team/members/:userId',
    { preHandler: manager },
    async (request, reply) => memberPage(reply, request.ui, request.service, request.params.userId, {}),
  );

  app.post<{ Params: { serviceId: string; userId: string }; Body: Form }>(
    '/services/:serviceId/team/members/:userId',
    { preHandler: manager },
    async (request, reply) => {
      const { ui, service } = request;
      const userId = request.params.userId.toLowerCase();
      if (!UUID.test(userId)) return reply.redirect(path(service), 303);
      const permissions = formList(request.body.permissions);
      try {
        await setPermissions(db, { serviceId: service.id, userId, permissions, ...actor(request) });
      } catch (err) {
        if (!(err instanceof TeamError)) throw err;
        if (err.code === 'not-member') return reply.redirect(path(service), 303);
        return memberPage(
          reply,
          ui,
          service,
          userId,
          { permissions, errors: [{ field: 'permissions', message: ui.t(`team.error.${err.code}`) }] },
          400,
        );
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
      if (!UUID.test(userId)) return reply.redirect(path(service), 303);
      try {
        await removeMember(db, { serviceId: service.id, userId, ...actor(request) });
      } catch (err) {
        if (!(err instanceof TeamError)) throw err;
        if (err.code === 'not-member') return reply.redirect(path(service), 303);
        return memberPage(
          reply,
          ui,
          service,
          userId,
          { errors: [{ field: 'permissions', message: ui.t(`team.error.${err.code}`) }] },
          400,
        );
      }
      directory.invalidate(service.id);
      // Someone who removed themselves can no longer see the team.
      if (userId === ui.account!.id && !ui.account!.platformAdmin) return reply.redirect('/services', 303);
      return reply.redirect(`${path(service)}?done=removed`, 303);
    },
  );

  // ---- guest list -----------------------------------------------------------------------------------------

  const guestPage = async (
    reply: FastifyReply,
    ui: UiContext,
    service: ServiceContext,
    v: { recipient?: string; errors?: FieldError[]; done?: string },
    status = 200,
  ) => {
    const { t } = ui;
    const canManage = service.permissions.has('manage_service');
    const guests = await listGuests(db, service.id);
    return sendServicePage(
      reply,
      ui,
      service,
      'team',
      {
        title: t('team.guests.title'),
        errors: v.errors,
        body: html`${errorSummary(ui, v.errors)}${v.done && notice(html`<p>${t(`team.done.${v.done}`)}</p>`, 'success')}
<h1>${t('team.guests.title')}</h1>
<p>${t('team.guests.intro')}</p>
${
  guests.length === 0
    ? html`<p>${t('team.guests.empty')}</p>`
    : html`<table>
  <caption class="visually-hidden">${t('team.guests.title')}</caption>
  <thead><tr><th scope="col">${t('team.guests.recipient')}</th><th scope="col">${t('team.guests.type')}</th>${canManage && html`<th scope="col">${t('team.actions')}</th>`}</tr></thead>
  <tbody>${guests.map(
    (g) =>
      html`<tr><td>${g.recipient}</td><td>${t(`team.guests.type.${g.type}`)}</td>${
        canManage &&
        html`<td><form method="post" action="${path(service, `/guest-list/${g.id}/remove`)}">${csrfField(ui)}<button type="submit" class="secondary">${t('team.guests.remove')}<span class="visually-hidden"> ${g.recipient}</span></button></form></td>`
      }</tr>`,
  )}</tbody>
</table>`
}
${
  canManage &&
  html`<h2>${t('team.guests.addTitle')}</h2>
<form method="post" action="${path(service, '/guest-list')}" novalidate>
  ${csrfField(ui)}
  ${textInput({ id: 'recipient', label: t('team.guests.field'), hint: t('team.guests.fieldHint'), value: v.recipient, autocomplete: 'off', errors: v.errors })}
  <button type="submit">${t('team.guests.add')}</button>
</form>`
}
<p><a href="${path(service)}">${t('team.back')}</a></p>`,
      },
      status,
    );
  };

  app.get<{ Params: { serviceId: string }; Querystring: { done?: string } }>(
    '/services/:serviceId/team/guest-list',
    { preHandler: anyMember },
    async (request, reply) =>
      guestPage(reply, request.ui, request.service, { done: DONE.find((d) => d === request.query.done) }),
  );

  app.post<{ Params: { serviceId: string }; Body: Form }>(
    '/services/:serviceId/team/guest-list',
    { preHandler: manager },
    async (request, reply) => {
      const { ui, service } = request;
      const recipient = formText(request.body.recipient);
      if (!recipient)
        return guestPage(
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
        return guestPage(
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
      if (UUID.test(request.params.guestId)) await removeGuest(db, service.id, request.params.guestId.toLowerCase());
      directory.invalidate(service.id);
      return reply.redirect(`${path(service, '/guest-list')}?done=guest-removed`, 303);
    },
  );
}
