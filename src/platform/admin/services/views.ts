/** The services list and the invitation pages. */
import type { FastifyReply } from 'fastify';
import { html, type Html } from '../../ui/html.ts';
import { csrfField, errorSummary, notice, sendPage, textInput, type FieldError } from '../../ui/layout.ts';
import type { UiContext } from '../../ui/context.ts';
import type { AdminDeps } from '../../ui/admin-deps.ts';
import { newPasswordField } from '../accounts/views.ts';
import { memberServices, type ServiceSummary } from '../../services/services.ts';
import type { Invitation } from '../../services/team.ts';
import { permissionList } from '../team/views.ts';
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

/** `/services`: the services one belongs to, creating one, and (for a platform admin) every service. */
export function servicesPage(reply: FastifyReply, ui: UiContext, services: readonly ServiceSummary[], joined: boolean) {
  const { t } = ui;
  return sendPage(reply, ui, {
    title: t('services.title'),
    body: html`${joined && notice(html`<p>${t('services.joined')}</p>`, 'success')}
<h1>${t('services.title')}</h1>
${servicesList(ui, services)}
<p><a class="button" href="/services/new">${t('services.create')}</a></p>
${ui.account!.platformAdmin && html`<p><a href="/platform-admin/services">${t('services.allServices')}</a></p>`}`,
  });
}

/** For the signed-in home page. */
export async function homeServices(deps: AdminDeps, ui: UiContext): Promise<Html> {
  const services = await memberServices(deps.services.database.db, ui.account!.id);
  return html`<h2>${ui.t('services.yours')}</h2>
${servicesList(ui, services)}
<p><a href="/services/new">${ui.t('services.create')}</a></p>`;
}

export function expiredInvitationPage(reply: FastifyReply, ui: UiContext) {
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

export function invitationPage(
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
