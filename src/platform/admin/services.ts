/**
 * `/services`: the services a person belongs to (and the way to switch between them), creating a service, and
 * the link of an invitation to a team (`/invitation/:token`): join after signing in, or create an account there.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { html, type Html } from '../ui/html.ts';
import { csrfField, errorSummary, notice, sendPage, textInput, type FieldError } from '../ui/layout.ts';
import { requireUser } from '../ui/guards.ts';
import type { UiContext } from '../ui/context.ts';
import type { AdminDeps } from '../ui/admin-deps.ts';
import { newPasswordField, passwordErrors } from './accounts.ts';
import { createService, memberServices, ServiceError, type ServiceSummary } from '../services/services.ts';
import {
  acceptInvitation,
  accountExists,
  invitationByToken,
  signUpFromInvitation,
  TeamError,
  type Invitation,
} from '../services/team.ts';
import { permissionList } from './team.ts';

type Form = Record<string, string | undefined>;

export async function servicesRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const db = deps.services.database.db;

  app.get<{ Querystring: { done?: string } }>('/services', { preHandler: requireUser }, async (request, reply) => {
    const { ui } = request;
    const { t } = ui;
    const services = await memberServices(db, ui.account!.id);
    return sendPage(reply, ui, {
      title: t('services.title'),
      body: html`${request.query.done === 'joined' && notice(html`<p>${t('services.joined')}</p>`, 'success')}
<h1>${t('services.title')}</h1>
${servicesList(ui, services)}
<p><a class="button" href="/services/new">${t('services.create')}</a></p>
${ui.account!.platformAdmin && html`<p><a href="/platform-admin/services">${t('services.allServices')}</a></p>`}`,
    });
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

  // ---- invitations ------------------------------------------------------------------------------------------

  app.get<{ Params: { token: string } }>('/invitation/:token', async (request, reply) => {
    const { ui } = request;
    const invitation = await invitationByToken(db, request.params.token);
    if (!invitation) return expiredInvitationPage(reply, ui);
    return invitationPage(reply, ui, invitation, request.params.token, {
      hasAccount: await accountExists(db, invitation.email),
    });
  });

  app.post<{ Params: { token: string } }>(
    '/invitation/:token/accept',
    { preHandler: requireUser },
    async (request, reply) => {
      const { ui } = request;
      const account = ui.account!;
      try {
        const invitation = await acceptInvitation(db, {
          token: request.params.token,
          userId: account.id,
          userEmail: account.email,
          ip: request.ip,
        });
        deps.services.directory.invalidate(invitation.serviceId);
        return reply.redirect(`/services/${invitation.serviceId}/team?done=joined`, 303);
      } catch (err) {
        if (!(err instanceof TeamError)) throw err;
        if (err.code === 'invitation-invalid') return expiredInvitationPage(reply, ui);
        const invitation = (await invitationByToken(db, request.params.token))!;
        return invitationPage(reply, ui, invitation, request.params.token, { hasAccount: true }, 400);
      }
    },
  );

  app.post<{ Params: { token: string }; Body: Form }>('/invitation/:token/sign-up', async (request, reply) => {
    const { ui } = request;
    if (!deps.attempts.allow(`ip:${request.ip}`))
      return reply.redirect(`/invitation/${encodeURIComponent(request.params.token)}`, 303);
    const invitation = await invitationByToken(db, request.params.token);
    if (!invitation) return expiredInvitationPage(reply, ui);
    const name = (request.body.name ?? '').trim();
    const password = request.body.password ?? '';
    const errors: FieldError[] = [];
    if (!name) errors.push({ field: 'name', message: ui.t('field.name.missing') });
    errors.push(...passwordErrors(ui, password, 'password'));
    const again = (errs: FieldError[]) =>
      invitationPage(reply, ui, invitation, request.params.token, { hasAccount: false, name, errors: errs }, 400);
    if (errors.length) return again(errors);
    try {
      const joined = await signUpFromInvitation(db, {
        token: request.params.token,
        name,
        password,
        language: ui.locale,
        ip: request.ip,
      });
      deps.services.directory.invalidate(joined.invitation.serviceId);
    } catch (err) {
      if (!(err instanceof TeamError)) throw err;
      if (err.code === 'invitation-invalid') return expiredInvitationPage(reply, ui);
      if (err.code === 'account-exists')
        return invitationPage(reply, ui, invitation, request.params.token, { hasAccount: true }, 400);
      return again(passwordErrors(ui, password, 'password'));
    }
    // Signing in as usual (password, then a code) brings them to the service.
    return reply.redirect(
      `/sign-in?notice=account-created&next=${encodeURIComponent(`/services/${invitation.serviceId}`)}`,
      303,
    );
  });
}

/** The list of services with their mode, linking to each; used by `/services` and the home page. */
export function servicesList(ui: UiContext, services: readonly ServiceSummary[]): Html {
  const { t } = ui;
  if (services.length === 0) return html`<p>${t('services.none')}</p>`;
  return html`<ul class="service-list">
  ${services.map(
    (s) =>
      html`<li><a href="/services/${s.id}">${s.name}</a> <span class="muted">(${s.active ? t(s.restricted ? 'services.mode.trial' : 'services.mode.live') : t('services.mode.suspended')})</span></li>`,
  )}
</ul>`;
}

/** For the signed-in home page. */
export async function homeServices(deps: AdminDeps, ui: UiContext): Promise<Html> {
  const services = await memberServices(deps.services.database.db, ui.account!.id);
  return html`<h2>${ui.t('services.yours')}</h2>
${servicesList(ui, services)}
<p><a href="/services/new">${ui.t('services.create')}</a></p>`;
}

function newServicePage(
  reply: FastifyReply,
  ui: UiContext,
  v: { name?: string; localPart?: string; errors?: FieldError[] },
  status = 200,
) {
  const { t } = ui;
  return sendPage(
    reply,
    ui,
    {
      title: t('services.new.title'),
      errors: v.errors,
      body: html`${errorSummary(ui, v.errors)}
<h1>${t('services.new.title')}</h1>
<p>${t('services.new.intro')}</p>
<form method="post" action="/services/new" novalidate>
  ${csrfField(ui)}
  ${textInput({ id: 'name', label: t('services.field.name'), hint: t('services.field.nameHint'), value: v.name, errors: v.errors })}
  ${textInput({ id: 'email_sender', label: t('services.field.localPart'), hint: t('services.field.localPartHint'), value: v.localPart, errors: v.errors })}
  <button type="submit">${t('services.new.submit')}</button>
</form>`,
    },
    status,
  );
}

function expiredInvitationPage(reply: FastifyReply, ui: UiContext) {
  const { t } = ui;
  return sendPage(
    reply,
    ui,
    {
      title: t('invitation.expired.title'),
      body: html`<h1>${t('invitation.expired.title')}</h1><p>${t('invitation.expired.body')}</p>`,
    },
    404,
  );
}

function invitationPage(
  reply: FastifyReply,
  ui: UiContext,
  invitation: Invitation,
  token: string,
  v: { hasAccount: boolean; name?: string; errors?: FieldError[] },
  status = 200,
) {
  const { t } = ui;
  const base = `/invitation/${encodeURIComponent(token)}`;
  const intro = html`<p>${t('invitation.intro', { inviter: invitation.invitedBy ?? t('invitation.someone'), service: invitation.serviceName })}</p>
<p>${t('invitation.permissions')}</p>${permissionList(ui, invitation.permissions)}`;
  let action: Html;
  if (ui.account) {
    action =
      ui.account.email.toLowerCase() === invitation.email.toLowerCase()
        ? html`<form method="post" action="${base}/accept">${csrfField(ui)}<button type="submit">${t('invitation.accept', { service: invitation.serviceName })}</button></form>`
        : notice(
            html`<p>${t('invitation.wrongAccount', { invited: invitation.email, current: ui.account.email })}</p>`,
            'warning',
          );
  } else if (v.hasAccount) {
    action = html`<p>${t('invitation.signInFirst', { email: invitation.email })}</p>
<p><a class="button" href="/sign-in?next=${encodeURIComponent(base)}">${t('invitation.signIn')}</a></p>`;
  } else {
    action = html`<h2>${t('invitation.createAccount')}</h2>
<form method="post" action="${base}/sign-up" novalidate>
  ${csrfField(ui)}
  <dl class="summary-list"><dt>${t('field.email.label')}</dt><dd>${invitation.email}</dd></dl>
  ${textInput({ id: 'name', label: t('field.name.label'), value: v.name, autocomplete: 'name', errors: v.errors })}
  ${newPasswordField(ui, v.errors)}
  <button type="submit">${t('invitation.createAndJoin')}</button>
</form>`;
  }
  return sendPage(
    reply,
    ui,
    {
      title: t('invitation.title', { service: invitation.serviceName }),
      errors: v.errors,
      body: html`${errorSummary(ui, v.errors)}<h1>${t('invitation.title', { service: invitation.serviceName })}</h1>${intro}${action}`,
    },
    status,
  );
}
