/**
 * `/services/:serviceId`: a service's dashboard, the page its members land on. What was sent, delivered and failed
 * over the last 7 days per channel (a bar chart drawn in SVG, with the same figures in a table under it), today's
 * sends against the daily limits, and the templates used most. Figures come from notificationStatistics, which
 * reads rolled-up days and live rows alike; messages sent with a test key are left out.
 */
import type { FastifyInstance } from 'fastify';
import { html } from '../../../platform/ui/html.ts';
import { requireService } from '../../../platform/ui/service-context.ts';
import { sendServicePage, servicePath } from '../../../platform/ui/service-layout.ts';
import type { NotifyAdminDeps } from '../admin-deps.ts';
import { addDays } from '../../../platform/utc-days.ts';
import { todaysUse, utcDay } from '../../sending/limits.ts';
import { serviceDailyLimits } from '../../settings/daily-limits.ts';
import { templateNames } from '../../templates/templates.ts';
import { notificationStatistics } from '../../reporting/statistics.ts';
import { CHANNELS, channelSection, dayLabel, figuresByDay } from './views.ts';
const DAYS = 7;
const LIMIT_CHANNELS = ['email', 'sms', 'international_sms'] as const;
const TOP_TEMPLATES = 5;

export async function dashboardRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  // Who may look is checked on the primary; the figures may lag on the read replica.
  const db = deps.services.readDb;

  app.get<{ Params: { serviceId: string } }>(
    '/services/:serviceId',
    { preHandler: requireService(deps.services.database.db) },
    async (request, reply) => {
      const { ui, service } = request;
      const { t } = ui;
      const today = utcDay();
      const from = addDays(today, -(DAYS - 1));
      const [stats, counts, limits] = await Promise.all([
        notificationStatistics(db, { serviceId: service.id, from, to: today }),
        todaysUse(db, service.id),
        serviceDailyLimits(db, service.id),
      ]);
      const byDay = figuresByDay(stats, from, DAYS);

      const usage = LIMIT_CHANNELS.map((channel) => ({
        channel,
        sent: counts[channel],
        limit: { email: limits.email, sms: limits.sms, international_sms: limits.internationalSms }[channel],
      }));

      const perTemplate = new Map<string, number>();
      for (const s of stats)
        if (s.keyType !== 'test') perTemplate.set(s.templateId, (perTemplate.get(s.templateId) ?? 0) + s.count);
      const top = [...perTemplate].sort((a, b) => b[1] - a[1]).slice(0, TOP_TEMPLATES);
      const names = await templateNames(
        db,
        service.id,
        top.map(([id]) => id),
      );

      const body = html`<link rel="stylesheet" href="/assets/1/insights.css">
<h1>${t('dashboard.title')}</h1>
<p class="muted">${t('dashboard.period', { from: dayLabel(ui, from, 'long'), to: dayLabel(ui, today, 'long') })}</p>
${CHANNELS.map((channel) => channelSection(ui, channel, byDay[channel]))}
<h2>${t('dashboard.usage.title')}</h2>
<p>${t('dashboard.usage.intro')}</p>
<ul class="usage">
  ${usage.map(
    (u) => html`<li>
    <label for="usage-${u.channel}">${t(`dashboard.usage.${u.channel}`, { sent: ui.formatNumber(u.sent), limit: ui.formatNumber(u.limit) })}</label>
    <meter id="usage-${u.channel}" min="0" max="${Math.max(1, u.limit)}" low="${Math.floor(u.limit * 0.8)}" high="${Math.floor(u.limit * 0.95)}" optimum="0" value="${Math.min(u.sent, u.limit)}">${ui.formatNumber(u.sent)} / ${ui.formatNumber(u.limit)}</meter>
  </li>`,
  )}
</ul>
<h2>${t('dashboard.templates.title')}</h2>
${
  top.length === 0
    ? html`<p>${t('dashboard.templates.none')}</p>`
    : html`<table class="top-templates">
  <caption class="visually-hidden">${t('dashboard.templates.title')}</caption>
  <thead><tr><th scope="col">${t('dashboard.templates.name')}</th><th scope="col">${t('dashboard.templates.type')}</th><th scope="col" class="number">${t('dashboard.templates.messages')}</th></tr></thead>
  <tbody>${top.map(([id, count]) => {
    const template = names.find((n) => n.id === id);
    return html`<tr>
    <td>${template ? html`<a href="${servicePath(service, `/templates/${id}`)}">${template.name}</a>` : t('dashboard.templates.deleted')}</td>
    <td>${template ? t(`dashboard.channel.${template.type}`) : ''}</td>
    <td class="number">${ui.formatNumber(count)}</td>
  </tr>`;
  })}</tbody>
</table>`
}`;
      return sendServicePage(reply, ui, service, 'dashboard', { title: t('dashboard.title'), body });
    },
  );
}
