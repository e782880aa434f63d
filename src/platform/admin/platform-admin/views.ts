/** The platform admin pages: the home page, the people with accounts, and the audit log. */
import type { FastifyReply } from 'fastify';
import { html } from '../../ui/html.ts';
import { csrfField, notice, sendPage } from '../../ui/layout.ts';
import type { UiContext } from '../../ui/context.ts';
import type { Account } from '../../accounts/accounts.ts';
import { AUDIT_EVENTS, type AuditEntry } from '../../audit.ts';
import { auditDetails } from './audit-details.ts';
import type { AuditFilter } from './forms.ts';

export function platformAdminPage(reply: FastifyReply, ui: UiContext) {
  const { t } = ui;
  return sendPage(reply, ui, {
    title: t('platformAdmin.title'),
    body: html`<h1>${t('platformAdmin.title')}</h1>
<ul>
  <li><a href="/platform-admin/users">${t('platformAdmin.users.title')}</a></li>
  <li><a href="/platform-admin/audit">${t('platformAdmin.audit.title')}</a></li>
  <li><a href="/platform-admin/services">${t('platformServices.title')}</a></li>
  <li><a href="/platform-admin/live-requests">${t('platformServices.requests.title')}</a></li>
</ul>`,
  });
}

/** The people with accounts: their state, two-step method and last sign-in; unlocking, resetting the two-step. */
export function usersPage(reply: FastifyReply, ui: UiContext, people: Account[], done: string | undefined) {
  const { t } = ui;
  const now = new Date();
  return sendPage(reply, ui, {
    title: t('platformAdmin.users.title'),
    body: html`${done && notice(html`<p>${t(`platformAdmin.users.done.${done}`)}</p>`, 'success')}
<h1>${t('platformAdmin.users.title')}</h1>
<table>
  <caption class="visually-hidden">${t('platformAdmin.users.title')}</caption>
  <thead><tr>
    <th scope="col">${t('field.name.label')}</th><th scope="col">${t('field.email.label')}</th>
    <th scope="col">${t('platformAdmin.users.state')}</th><th scope="col">${t('account.twoStep')}</th>
    <th scope="col">${t('platformAdmin.users.lastSignIn')}</th><th scope="col">${t('platformAdmin.users.actions')}</th>
  </tr></thead>
  <tbody>
  ${people.map((p) => {
    const locked = p.lockedUntil !== null && p.lockedUntil > now;
    return html`<tr>
    <td>${p.name}${p.platformAdmin && html` <span class="muted">(${t('account.platformAdmin')})</span>`}</td>
    <td>${p.email}</td>
    <td>${locked ? t('platformAdmin.users.lockedUntil', { time: ui.formatDateTime(p.lockedUntil!) }) : t(`platformAdmin.users.stateName.${p.state}`)}</td>
    <td>${t(`twoStep.method.${p.authType}`)}</td>
    <td>${p.lastSignedInAt ? ui.formatDateTime(p.lastSignedInAt) : t('account.none')}</td>
    <td>
      ${locked && html`<form method="post" action="/platform-admin/users/${p.id}/unlock">${csrfField(ui)}<button type="submit" class="secondary">${t('platformAdmin.users.unlock')}<span class="visually-hidden"> ${p.email}</span></button></form>`}
      ${p.authType !== 'email' && html`<form method="post" action="/platform-admin/users/${p.id}/reset-two-step">${csrfField(ui)}<button type="submit" class="secondary">${t('platformAdmin.users.resetTwoStep')}<span class="visually-hidden"> ${p.email}</span></button></form>`}
    </td>
  </tr>`;
  })}
  </tbody>
</table>`,
  });
}

/** One page of the audit log, newest first, with its filters and the links to newer and older pages. */
export function auditPage(
  reply: FastifyReply,
  ui: UiContext,
  filter: AuditFilter,
  v: { entries: AuditEntry[]; hasNext: boolean },
) {
  const { t } = ui;
  const { user, event, page } = filter;
  const { entries, hasNext } = v;
  const link = (p: number) =>
    `/platform-admin/audit?${new URLSearchParams({ ...(user ? { user } : {}), ...(event ? { event } : {}), page: String(p) })}`;
  return sendPage(reply, ui, {
    title: t('platformAdmin.audit.title'),
    body: html`<h1>${t('platformAdmin.audit.title')}</h1>
<form method="get" action="/platform-admin/audit" class="filters">
  <div class="field"><label for="user">${t('platformAdmin.audit.user')}</label><input id="user" name="user" type="search" value="${user}" spellcheck="false"></div>
  <div class="field"><label for="event">${t('platformAdmin.audit.event')}</label>
    <select id="event" name="event"><option value="">${t('platformAdmin.audit.allEvents')}</option>
      ${AUDIT_EVENTS.map((e) => html`<option value="${e}"${e === event ? ' selected' : ''}>${t(`audit.event.${e}`)}</option>`)}
    </select></div>
  <div class="field"><button type="submit" class="secondary">${t('platformAdmin.audit.filter')}</button></div>
</form>
${
  entries.length === 0
    ? html`<p>${t('platformAdmin.audit.empty')}</p>`
    : html`<table>
  <caption class="visually-hidden">${t('platformAdmin.audit.title')}</caption>
  <thead><tr><th scope="col">${t('platformAdmin.audit.when')}</th><th scope="col">${t('platformAdmin.audit.event')}</th><th scope="col">${t('platformAdmin.audit.about')}</th><th scope="col">${t('platformAdmin.audit.by')}</th><th scope="col">${t('platformAdmin.audit.ip')}</th><th scope="col">${t('platformAdmin.audit.details')}</th></tr></thead>
  <tbody>${entries.map(
    (e) =>
      html`<tr><td>${ui.formatDateTime(e.createdAt)}</td><td>${t(`audit.event.${e.event}`)}</td><td>${e.user?.email ?? '–'}</td><td>${e.actor?.email ?? '–'}</td><td>${e.ip ?? '–'}</td><td>${auditDetails(ui, e)}</td></tr>`,
  )}</tbody>
</table>`
}
<nav aria-label="${t('platformAdmin.audit.pages')}"><ul class="pager">
  ${page > 1 && html`<li><a href="${link(page - 1)}">${t('platformAdmin.audit.newer')}</a></li>`}
  ${hasNext && html`<li><a href="${link(page + 1)}">${t('platformAdmin.audit.older')}</a></li>`}
</ul></nav>`,
  });
}
