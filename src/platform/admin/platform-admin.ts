/**
 * Platform admin pages: the people with accounts (unlock, recover a lost second step) and the audit log of
 * security events, paged and filtered by person and event.
 */
import type { FastifyInstance } from 'fastify';
import { html, type Html, type HtmlValue } from '../ui/html.ts';
import { csrfField, notice, sendPage } from '../ui/layout.ts';
import { requirePlatformAdmin } from '../ui/guards.ts';
import type { UiContext } from '../ui/context.ts';
import type { AdminDeps } from '../ui/admin-deps.ts';
import { AUDIT_EVENTS, listAudit, type AuditEntry } from '../audit.ts';

const PAGE_SIZE = 50;

export async function platformAdminRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const { accounts } = deps;
  app.addHook('preHandler', async (request, reply) => {
    if (request.url.startsWith('/platform-admin')) return requirePlatformAdmin(request, reply);
  });

  app.get('/platform-admin', async (request, reply) => {
    const { t } = request.ui;
    return sendPage(reply, request.ui, {
      title: t('platformAdmin.title'),
      body: html`<h1>${t('platformAdmin.title')}</h1>
<ul>
  <li><a href="/platform-admin/users">${t('platformAdmin.users.title')}</a></li>
  <li><a href="/platform-admin/audit">${t('platformAdmin.audit.title')}</a></li>
  <li><a href="/platform-admin/services">${t('platformServices.title')}</a></li>
  <li><a href="/platform-admin/live-requests">${t('platformServices.requests.title')}</a></li>
</ul>`,
    });
  });

  app.get<{ Querystring: { done?: string } }>('/platform-admin/users', async (request, reply) => {
    const { ui } = request;
    const { t } = ui;
    const people = await accounts.list();
    const now = new Date();
    const done = ['unlocked', 'two-step-reset'].find((d) => d === request.query.done);
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
  });

  app.post<{ Params: { id: string } }>('/platform-admin/users/:id/unlock', async (request, reply) => {
    const target = await accounts.byId(uuidOrNull(request.params.id));
    if (!target) return reply.redirect('/platform-admin/users', 303);
    await accounts.unlock(target.id, request.ui.account!.id, request.ip);
    return reply.redirect('/platform-admin/users?done=unlocked', 303);
  });

  app.post<{ Params: { id: string } }>('/platform-admin/users/:id/reset-two-step', async (request, reply) => {
    const target = await accounts.byId(uuidOrNull(request.params.id));
    if (!target) return reply.redirect('/platform-admin/users', 303);
    await accounts.resetSecondFactor(target.id, request.ui.account!.id, request.ip);
    return reply.redirect('/platform-admin/users?done=two-step-reset', 303);
  });

  app.get<{ Querystring: { user?: string; event?: string; page?: string } }>(
    '/platform-admin/audit',
    async (request, reply) => {
      const { ui } = request;
      const { t } = ui;
      const user = (request.query.user ?? '').trim().slice(0, 320);
      const event = AUDIT_EVENTS.find((e) => e === request.query.event) ?? '';
      const page = Math.max(1, Math.min(10_000, Number.parseInt(request.query.page ?? '1', 10) || 1));
      const { entries, hasNext } = await listAudit(deps.services.database.db, {
        user: user || undefined,
        event: event || undefined,
        page,
        pageSize: PAGE_SIZE,
      });
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
    },
  );
}

// ---- the details of an audit event -------------------------------------------------------------------------

const LIMITS = ['email', 'sms', 'internationalSms'] as const;

/**
 * An event's details as a list of "label: value" lines in the page's language: the service linked, the API or
 * security key, permissions and limits before and after, enumerated values translated, numbers and dates formatted.
 * Keys it does not know are shown as they are, so nothing recorded is hidden from the admin.
 */
function auditDetails(ui: UiContext, entry: AuditEntry): Html | string {
  const { t } = ui;
  const rest = new Map(Object.entries(entry.details));
  const take = (key: string): unknown => {
    const value = rest.get(key);
    rest.delete(key);
    return value;
  };
  const items: Array<{ label: string; value: HtmlValue }> = [];
  const add = (labelKey: string, value: HtmlValue) => items.push({ label: t(labelKey), value });
  // A value of a known set (a key type, a permission, a channel…) in words; anything else as it was recorded.
  const named = (prefix: string, value: unknown): string => {
    if (typeof value !== 'string') return plain(ui, value);
    const words = t(`${prefix}${value}`);
    return words === `${prefix}${value}` ? value : words;
  };
  const change = (before: HtmlValue, after: HtmlValue): Html =>
    html`${before} <span aria-hidden="true">→</span><span class="visually-hidden"> ${t('audit.detail.becomes')}</span> ${after}`;
  const permissions = (value: unknown): string =>
    !Array.isArray(value)
      ? plain(ui, value)
      : value.length === 0
        ? t('team.permission.none')
        : value.map((p) => named('team.permission.', p)).join(', ');

  const serviceId = take('serviceId');
  const serviceName = take('serviceName');
  if (entry.service?.name != null)
    add('audit.detail.service', html`<a href="/services/${entry.service.id}">${entry.service.name}</a>`);
  else if (serviceId !== undefined || serviceName !== undefined)
    add('audit.detail.service', plain(ui, serviceName ?? serviceId));

  const keyName = take('keyName');
  const keyId = take('keyId');
  const keyType = take('keyType');
  if (keyName !== undefined || keyId !== undefined || keyType !== undefined) {
    const name = plain(ui, keyName ?? keyId);
    add(
      'audit.detail.apiKey',
      keyType === undefined ? name : t('audit.detail.keyWithType', { name, type: named('api.keyType.', keyType) }),
    );
  }
  if (rest.has('method')) add('audit.detail.method', named('twoStep.method.', take('method')));
  if (rest.has('securityKeyName')) add('audit.detail.securityKey', plain(ui, take('securityKeyName')));
  if (rest.has('via')) add('audit.detail.via', named('audit.via.', take('via')));
  if (rest.has('email')) add('audit.detail.email', plain(ui, take('email')));

  const recipient = take('recipient');
  const channel = take('channel');
  if (recipient !== undefined) {
    add(
      'audit.detail.recipient',
      channel === undefined
        ? plain(ui, recipient)
        : t('audit.detail.recipientWithChannel', {
            recipient: plain(ui, recipient),
            channel: named('suppressions.channel.', channel),
          }),
    );
  } else if (channel !== undefined) add('audit.detail.channel', named('suppressions.channel.', channel));
  // A suppression's reason is one of a few; a declined request to go live has the admin's own words.
  if (rest.has('reason'))
    add(
      'audit.detail.reason',
      entry.event === 'suppression-removed' ? named('suppressions.reason.', take('reason')) : plain(ui, take('reason')),
    );
  if (rest.has('until')) {
    const until = take('until');
    const date = typeof until === 'string' ? new Date(until) : null;
    add('audit.detail.until', date && !Number.isNaN(date.getTime()) ? ui.formatDateTime(date) : plain(ui, until));
  }
  if (rest.has('permissions')) add('audit.detail.permissions', permissions(take('permissions')));

  const before = rest.get('before');
  const after = rest.get('after');
  if (Array.isArray(before) || Array.isArray(after)) {
    take('before');
    take('after');
    add(
      'audit.detail.permissions',
      before === undefined ? permissions(after) : change(permissions(before), permissions(after)),
    );
  } else if (isRecord(after) && (before === undefined || isRecord(before))) {
    take('before');
    take('after');
    // Limits: those that changed, before and after; every one when the row has no "before" or nothing changed.
    const keys = [
      ...LIMITS.filter((k) => k in after),
      ...Object.keys(after).filter((k) => !(LIMITS as readonly string[]).includes(k)),
    ];
    const changed = before ? keys.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k])) : [];
    for (const k of changed.length ? changed : keys) {
      const label = (LIMITS as readonly string[]).includes(k) ? t(`settings.limits.${k}`) : k;
      items.push({
        label,
        value: before && changed.length ? change(plain(ui, before[k]), plain(ui, after[k])) : plain(ui, after[k]),
      });
    }
  }

  for (const [key, value] of rest) items.push({ label: key, value: plain(ui, value) });
  if (items.length === 0) return '–';
  return html`<ul class="audit-details">${items.map((i) => html`<li>${t('audit.detail.line', { label: i.label })} ${i.value}</li>`)}</ul>`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A recorded value as text: numbers in the page's language, lists joined, anything else as JSON. */
function plain(ui: UiContext, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return ui.formatNumber(value);
  if (value === null || value === undefined) return '–';
  if (Array.isArray(value)) return value.map((v) => plain(ui, v)).join(', ');
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function uuidOrNull(id: string): string {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)
    ? id.toLowerCase()
    : '00000000-0000-0000-0000-000000000000';
}
