/** The team pages: the team, inviting someone, a member's permissions; and the permissions' pieces. */
import type { FastifyReply } from 'fastify';
import { html, type Html } from '../../ui/html.ts';
import { csrfField, errorSummary, notice, textInput, type FieldError } from '../../ui/layout.ts';
import type { UiContext } from '../../ui/context.ts';
import type { ServiceContext } from '../../ui/service-context.ts';
import { sendServicePage } from '../../ui/service-layout.ts';
import type { Permission } from '../../services/permissions.ts';
import { ALL_PERMISSIONS } from '../../services/permissions.ts';
import type { Invitation, Member } from '../../services/team.ts';
import { teamPath as path } from './scope.ts';

/** The permissions as a list of their names. */
export function permissionList(ui: UiContext, permissions: readonly Permission[]): Html {
  if (permissions.length === 0) return html`<p>${ui.t('team.permission.none')}</p>`;
  return html`<ul>${permissions.map((p) => html`<li>${ui.t(`team.permission.${p}`)}</li>`)}</ul>`;
}

export function permissionCheckboxes(ui: UiContext, selected: readonly string[], errors?: readonly FieldError[]): Html {
  const { t } = ui;
  const error = errors?.find((e) => e.field === 'permissions');
  return html`<div class="field${error ? ' has-error' : ''}"><fieldset aria-describedby="permissions-hint${error ? ' permissions-error' : ''}">
  <legend>${t('team.field.permissions')}</legend>
  <span class="hint" id="permissions-hint">${t('team.field.permissionsHint')}</span>
  ${error && html`<span class="error-message" id="permissions-error">${error.message}</span>`}
  ${ALL_PERMISSIONS.map(
    (p, i) => html`<div class="radio checkbox">
    <input type="checkbox" id="${i === 0 ? 'permissions' : `permissions-${p}`}" name="permissions" value="${p}"${selected.includes(p) ? ' checked' : ''} aria-describedby="permissions-${p}-hint">
    <label for="${i === 0 ? 'permissions' : `permissions-${p}`}">${t(`team.permission.${p}`)}<span class="hint" id="permissions-${p}-hint">${t(`team.permissionHint.${p}`)}</span></label>
  </div>`,
  )}
</fieldset></div>`;
}

/** The team: its members, the invitations waiting for an answer, and what products add (Notify: its guest list). */
export function teamPage(
  reply: FastifyReply,
  ui: UiContext,
  service: ServiceContext,
  v: { members: Member[]; invitations: Invitation[]; sections: Html[]; done?: string },
) {
  const { t } = ui;
  const { members, invitations, sections, done } = v;
  const canManage = service.permissions.has('manage_service');
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
}${sections}`,
  });
}

/** Inviting someone to the team, with the permissions they will have. */
export function invitePage(
  reply: FastifyReply,
  ui: UiContext,
  service: ServiceContext,
  v: { email?: string; permissions?: string[]; errors?: FieldError[] },
  status = 200,
) {
  return sendServicePage(
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
}

/** A member's permissions, and removing them from the team. */
export function memberPage(
  reply: FastifyReply,
  ui: UiContext,
  service: ServiceContext,
  m: Member,
  v: { permissions?: string[]; errors?: FieldError[] },
  status = 200,
) {
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
}
