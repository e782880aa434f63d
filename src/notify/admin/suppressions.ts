/**
 * `/services/:serviceId/suppressions`: the email addresses and phone numbers the service no longer sends to (a hard
 * bounce, a complaint, an opt-out, or added by hand), newest first, a page at a time, found by recipient. Removing
 * one (after a confirmation page) lets messages reach it again; the removal is audited. The same domain functions
 * as the API's GET and DELETE /v2/suppressions.
 *
 * Seeing the list needs view_activity, as the activity page. Removing needs send_messages: the people who send are
 * the ones who hear "I fixed my mailbox, please send it again" and who need the message to go out, and removing an
 * entry changes who their sending reaches, not how the service is set up (manage_service). The audit log keeps who
 * removed what.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html, type Html } from '../../platform/ui/html.ts';
import type { UiContext } from '../../platform/ui/context.ts';
import { csrfField, forbiddenPage, notice } from '../../platform/ui/layout.ts';
import { requireService, type ServiceContext } from '../../platform/ui/service-context.ts';
import { sendServicePage, servicePath } from '../../platform/ui/service-layout.ts';
import type { AdminDeps } from '../../web-ui.ts';
import type { TemplateType } from '../../platform/database/schema.ts';
import { recordAudit } from '../../platform/audit.ts';
import { listSuppressions } from '../delivery/suppressions.ts';
import { clearSuppression, findSuppression, type Suppression } from '../repositories/suppressions.ts';

const PAGE_SIZE = 50;
const SEARCH_MAX = 320;
/** Longer than any stored recipient: anything longer is not on the list. */
const RECIPIENT_MAX = 400;

interface ListQuery {
  search?: string;
  channel?: string;
  page?: string;
  notice?: string;
}

interface Filter {
  search: string;
  channel: TemplateType | undefined;
}

type EntryInput = { channel?: string; recipient?: string };

const channelOf = (value: unknown): TemplateType | undefined =>
  value === 'email' || value === 'sms' ? value : undefined;

/** The query as a filter; anything unknown is ignored, so a pasted URL never fails. */
function readFilter(query: ListQuery): Filter {
  const search = typeof query.search === 'string' ? query.search.trim().slice(0, SEARCH_MAX) : '';
  return { search, channel: channelOf(query.channel) };
}

function filterQuery(filter: Filter, page?: number): string {
  const params = new URLSearchParams();
  if (filter.search) params.set('search', filter.search);
  if (filter.channel) params.set('channel', filter.channel);
  if (page && page > 1) params.set('page', String(page));
  const text = params.toString();
  return text ? `?${text}` : '';
}

const entryQuery = (s: Pick<Suppression, 'channel' | 'recipient'>) =>
  `?${new URLSearchParams({ channel: s.channel, recipient: s.recipient })}`;

export async function suppressionRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const db = deps.services.database.db;
  const { phoneRegion } = deps.services.config;
  const viewer = { preHandler: requireService(db, 'view_activity') };
  const remover = { preHandler: requireService(db, 'send_messages') };

  app.get<{ Params: { serviceId: string }; Querystring: ListQuery }>(
    '/services/:serviceId/suppressions',
    viewer,
    async (request, reply) => {
      const { ui, service } = request;
      const { t } = ui;
      const filter = readFilter(request.query);
      const page = Math.min(10_000, Math.max(1, Number.parseInt(request.query.page ?? '1', 10) || 1));
      const found = await listSuppressions(db, service.id, {
        channel: filter.channel,
        search: filter.search ? { text: filter.search, phoneRegion } : undefined,
        offset: (page - 1) * PAGE_SIZE,
        limit: PAGE_SIZE + 1,
      });
      const rows = found.slice(0, PAGE_SIZE);
      const hasNext = found.length > PAGE_SIZE;
      const filtered = Boolean(filter.search || filter.channel);
      const mayRemove = service.permissions.has('send_messages');
      const done = request.query.notice === 'removed' ? 'removed' : request.query.notice === 'gone' ? 'gone' : null;
      const body = html`${done && notice(html`<p>${t(`suppressions.notice.${done}`)}</p>`, done === 'removed' ? 'success' : 'info')}
<h1>${t('suppressions.title')}</h1>
<p>${t('suppressions.intro')}</p>
${filterForm(ui, service, filter)}
<h2 id="results-title">${filter.search ? t('suppressions.resultsFor', { search: filter.search }) : t('suppressions.results')}</h2>
${
  rows.length === 0
    ? html`<p>${filtered ? t('suppressions.noMatch') : t('suppressions.none')}</p>`
    : html`<table class="suppressions" aria-describedby="results-title">
  <caption>${t('suppressions.caption', { page: ui.formatNumber(page) })}</caption>
  <thead><tr>
    <th scope="col">${t('suppressions.recipient')}</th>
    <th scope="col">${t('suppressions.channel')}</th>
    <th scope="col">${t('suppressions.reason')}</th>
    <th scope="col">${t('suppressions.since')}</th>
    <th scope="col">${t('suppressions.notification')}</th>
    ${mayRemove && html`<th scope="col"><span class="visually-hidden">${t('suppressions.actions')}</span></th>`}
  </tr></thead>
  <tbody>${rows.map((s) => entryRow(ui, service, s, mayRemove))}</tbody>
</table>`
}
<nav aria-label="${t('suppressions.pages')}"><ul class="pager">
  ${page > 1 && html`<li><a href="${servicePath(service, `/suppressions${filterQuery(filter, page - 1)}`)}" rel="prev">${t('suppressions.previous')}</a></li>`}
  ${hasNext && html`<li><a href="${servicePath(service, `/suppressions${filterQuery(filter, page + 1)}`)}" rel="next">${t('suppressions.next')}</a></li>`}
</ul></nav>`;
      return sendServicePage(reply, ui, service, 'suppressions', { title: t('suppressions.title'), body });
    },
  );

  /** The entry named by a form or link, if it is on this service's list. */
  async function entryOf(service: ServiceContext, input: EntryInput): Promise<Suppression | null> {
    const channel = channelOf(input.channel);
    const recipient = typeof input.recipient === 'string' ? input.recipient : '';
    if (!channel || !recipient || recipient.length > RECIPIENT_MAX) return null;
    return findSuppression(db, { serviceId: service.id, channel, recipient });
  }

  const listPath = (service: ServiceContext, notice?: 'removed' | 'gone') =>
    servicePath(service, `/suppressions${notice ? `?notice=${notice}` : ''}`);

  app.get<{ Params: { serviceId: string }; Querystring: EntryInput }>(
    '/services/:serviceId/suppressions/remove',
    remover,
    async (request, reply) => {
      const { ui, service } = request;
      const { t } = ui;
      // The page shows why the entry is there, which is the list's to show.
      if (!service.permissions.has('view_activity')) return forbidden(request, reply);
      const entry = await entryOf(service, request.query);
      if (!entry) return reply.redirect(listPath(service, 'gone'), 303);
      const title = t('suppressions.remove.title', { recipient: entry.recipient });
      const body = html`<h1>${title}</h1>
<dl class="summary-list">
  <dt>${t('suppressions.channel')}</dt><dd>${t(`suppressions.channel.${entry.channel}`)}</dd>
  <dt>${t('suppressions.reason')}</dt><dd>${t(`suppressions.reason.${entry.reason}`)}</dd>
  <dt>${t('suppressions.since')}</dt><dd>${ui.formatDateTime(entry.createdAt)}</dd>
</dl>
${notice(html`<p>${t(`suppressions.remove.warning.${entry.reason}`)}</p>`, entry.reason === 'manual' ? 'info' : 'warning')}
<p>${t('suppressions.remove.effect')}</p>
<form method="post" action="${servicePath(service, '/suppressions/remove')}" novalidate>
  ${csrfField(ui)}
  <input type="hidden" name="channel" value="${entry.channel}">
  <input type="hidden" name="recipient" value="${entry.recipient}">
  <div class="actions">
    <button type="submit" class="danger">${t('suppressions.remove.confirm')}</button>
    <a href="${listPath(service)}">${t('suppressions.remove.cancel')}</a>
  </div>
</form>`;
      return sendServicePage(reply, ui, service, 'suppressions', { title, body });
    },
  );

  app.post<{ Params: { serviceId: string }; Body: EntryInput }>(
    '/services/:serviceId/suppressions/remove',
    remover,
    async (request, reply) => {
      const { ui, service } = request;
      const entry = await entryOf(service, request.body ?? {});
      const removed =
        entry &&
        (await clearSuppression(db, { serviceId: service.id, channel: entry.channel, recipient: entry.recipient }));
      if (!removed) return reply.redirect(listPath(service, 'gone'), 303);
      await recordAudit(db, {
        event: 'suppression-removed',
        actorId: ui.account!.id,
        userId: null,
        ip: request.ip,
        details: {
          serviceId: service.id,
          serviceName: service.name,
          channel: removed.channel,
          recipient: removed.recipient,
          reason: removed.reason,
        },
      });
      return reply.redirect(listPath(service, 'removed'), 303);
    },
  );
}

function forbidden(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply
    .code(403)
    .type('text/html; charset=utf-8')
    .send(String(forbiddenPage(request.ui)));
}

function filterForm(ui: UiContext, service: ServiceContext, filter: Filter): Html {
  const { t } = ui;
  const option = (value: string, label: string) =>
    html`<option value="${value}"${value === (filter.channel ?? '') ? ' selected' : ''}>${label}</option>`;
  return html`<form method="get" action="${servicePath(service, '/suppressions')}" class="filters" role="search" aria-label="${t('suppressions.filterLabel')}">
  <div class="field">
    <label for="search">${t('suppressions.search.label')}</label>
    <span class="hint" id="search-hint">${t('suppressions.search.hint')}</span>
    <input type="search" id="search" name="search" value="${filter.search}" aria-describedby="search-hint" maxlength="${SEARCH_MAX}" spellcheck="false">
  </div>
  <div class="field">
    <label for="channel">${t('suppressions.channel')}</label>
    <select id="channel" name="channel">
      ${option('', t('suppressions.channel.all'))}
      ${option('email', t('suppressions.channel.email'))}
      ${option('sms', t('suppressions.channel.sms'))}
    </select>
  </div>
  <div class="field"><button type="submit">${t('suppressions.apply')}</button></div>
</form>`;
}

function entryRow(ui: UiContext, service: ServiceContext, s: Suppression, mayRemove: boolean): Html {
  const { t } = ui;
  return html`<tr>
  <td>${s.recipient}</td>
  <td>${t(`suppressions.channel.${s.channel}`)}</td>
  <td>${t(`suppressions.reason.${s.reason}`)}</td>
  <td>${ui.formatDateTime(s.createdAt)}</td>
  <td>${
    s.notificationId
      ? html`<a href="${servicePath(service, `/notifications/${s.notificationId}`)}">${t('suppressions.viewMessage')}<span class="visually-hidden"> ${t('suppressions.to', { recipient: s.recipient })}</span></a>`
      : t('suppressions.notKnown')
  }</td>
  ${mayRemove && html`<td><a class="button secondary" href="${servicePath(service, `/suppressions/remove${entryQuery(s)}`)}">${t('suppressions.remove')}<span class="visually-hidden"> ${s.recipient}</span></a></td>`}
</tr>`;
}
