/**
 * `/services/:serviceId/activity`: the service's messages newest first, a page at a time, filtered by channel and
 * status, or found by recipient or reference; each links to its own page (its timeline). The same list downloads
 * as CSV, streamed in batches and with every cell escaped against spreadsheet formulas.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { html, type Html } from '../../../platform/ui/html.ts';
import type { UiContext } from '../../../platform/ui/context.ts';
import type { Db } from '../../../platform/database/connection.ts';
import { requireService, type ServiceContext } from '../../../platform/ui/service-context.ts';
import { sendServicePage, servicePath } from '../../../platform/ui/service-layout.ts';
import type { NotifyAdminDeps } from '../admin-deps.ts';
import { eachActivity, listActivity, type ActivityFilter, type ActivityRow } from '../../reporting/activity.ts';
import { csvLine } from '../../../platform/csv-safety.ts';
import { type ActivityQuery, filterQuery, readFilter } from './forms.ts';
import { completedAt, filterForm, resultRow, statusLabel } from './views.ts';
const PAGE_SIZE = 50;

export async function activityRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  // Who may look is checked on the primary (a removed member is refused at once); the list may lag on a replica.
  const guard = requireService(deps.services.database.db, 'view_activity');
  const db = deps.services.readDb;
  const { phoneRegion } = deps.services.config;

  app.get<{ Params: { serviceId: string }; Querystring: ActivityQuery }>(
    '/services/:serviceId/activity',
    { preHandler: guard },
    async (request, reply) => {
      const { ui, service } = request;
      const filter = readFilter(service.id, request.query);
      const page = Math.min(10_000, Math.max(1, Number.parseInt(request.query.page ?? '1', 10) || 1));
      const { rows, hasNext } = await listActivity(db, filter, { page, pageSize: PAGE_SIZE, phoneRegion });
      const body = activityPage(ui, service, filter, page, rows, hasNext);
      return sendServicePage(reply, ui, service, 'activity', { title: ui.t('activity.title'), body });
    },
  );

  app.get<{ Params: { serviceId: string }; Querystring: ActivityQuery }>(
    '/services/:serviceId/activity/download',
    { preHandler: guard },
    async (request, reply) => {
      const { ui, service } = request;
      const filter = readFilter(service.id, request.query);
      const day = new Date().toISOString().slice(0, 10);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="activity-${day}.csv"`)
        .send(Readable.from(csvLines(db, filter, ui, phoneRegion)));
    },
  );
}

function activityPage(
  ui: UiContext,
  service: ServiceContext,
  filter: ActivityFilter,
  page: number,
  rows: ActivityRow[],
  hasNext: boolean,
): Html {
  const { t } = ui;
  const filtered = Boolean(filter.channel || filter.statusGroup || filter.search);
  return html`<link rel="stylesheet" href="/assets/1/insights.css">
<h1>${t('activity.title')}</h1>
<p>${t('activity.intro')}</p>
${filterForm(ui, service, filter)}
<h2 id="results-title">${filter.search ? t('activity.resultsFor', { search: filter.search }) : t('activity.results')}</h2>
${
  rows.length === 0
    ? html`<p>${filtered ? t('activity.noMatch') : t('activity.none')}</p>`
    : html`<table class="activity" aria-describedby="results-title">
  <caption>${t('activity.caption', { page: ui.formatNumber(page) })}</caption>
  <thead><tr>
    <th scope="col">${t('activity.recipient')}</th>
    <th scope="col">${t('activity.template')}</th>
    <th scope="col">${t('activity.channel')}</th>
    <th scope="col">${t('activity.status')}</th>
    <th scope="col">${t('activity.createdAt')}</th>
  </tr></thead>
  <tbody>${rows.map((r) => resultRow(ui, service, r))}</tbody>
</table>`
}
<nav aria-label="${t('activity.pages')}"><ul class="pager">
  ${page > 1 && html`<li><a href="${servicePath(service, `/activity${filterQuery(filter, page - 1)}`)}" rel="prev">${t('activity.previous')}</a></li>`}
  ${hasNext && html`<li><a href="${servicePath(service, `/activity${filterQuery(filter, page + 1)}`)}" rel="next">${t('activity.next')}</a></li>`}
</ul></nav>
${
  rows.length > 0 &&
  html`<p><a class="button secondary" href="${servicePath(service, `/activity/download${filterQuery(filter)}`)}" download>${t('activity.download')}</a></p>
<p class="hint">${t('activity.downloadHint')}</p>`
}`;
}

/** The CSV of every match, a chunk of rows at a time, each cell escaped against spreadsheet formulas. */
async function* csvLines(db: Db, filter: ActivityFilter, ui: UiContext, phoneRegion: string): AsyncGenerator<string> {
  const { t } = ui;
  // A byte order mark, so that spreadsheets read the accents as UTF-8.
  yield '\ufeff' +
    csvLine([
      t('activity.csv.recipient'),
      t('activity.csv.reference'),
      t('activity.csv.template'),
      t('activity.csv.channel'),
      t('activity.csv.status'),
      t('activity.csv.createdAt'),
      t('activity.csv.sentAt'),
      t('activity.csv.completedAt'),
      t('activity.csv.id'),
    ]);
  let chunk = '';
  let count = 0;
  for await (const r of eachActivity(db, filter, { phoneRegion })) {
    chunk += csvLine([
      r.to,
      r.reference,
      r.templateName,
      t(`activity.channel.${r.type}`),
      statusLabel(ui, r.status),
      r.createdAt.toISOString(),
      r.sentAt?.toISOString(),
      completedAt(r)?.toISOString(),
      r.id,
    ]);
    if (++count % 500 === 0) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}
