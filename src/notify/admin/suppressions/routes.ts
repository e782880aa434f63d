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
import type { FastifyInstance } from 'fastify';
import { html } from '../../../platform/ui/html.ts';
import { csrfField, notice } from '../../../platform/ui/layout.ts';
import { requireService, type ServiceContext } from '../../../platform/ui/service-context.ts';
import { sendServicePage, servicePath } from '../../../platform/ui/service-layout.ts';
import type { NotifyAdminDeps } from '../admin-deps.ts';
import { recordAudit } from '../../../platform/audit.ts';
import { listSuppressions } from '../../delivery/suppressions.ts';
import { clearSuppression, findSuppression, type Suppression } from '../../repositories/suppressions.ts';
import { type EntryInput, type ListQuery, channelOf, filterQuery, readFilter } from './forms.ts';
import { entryRow, filterForm, forbidden } from './views.ts';
const PAGE_SIZE = 50;
/** Longer than any stored recipient: anything longer is not on the list. */
const RECIPIENT_MAX = 400;

export async function suppressionRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  await listRoutes(app, deps);
  await removeRoutes(app, deps);
}

/** The list, filtered and paged. */
async function listRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  const db = deps.services.database.db;
  const { phoneRegion } = deps.services.config;
  const viewer = { preHandler: requireService(db, 'view_activity') };

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
}

/** Removing one entry, after a confirmation that says why it is there. */
async function removeRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  const db = deps.services.database.db;
  const remover = { preHandler: requireService(db, 'send_messages') };

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
