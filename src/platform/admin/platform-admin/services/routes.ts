/**
 * Platform admin pages about services: every service with what it sent in the last 7 days, its mode and state;
 * one service's page (daily limits, suspend and restore, its request to go live); the requests waiting for a
 * decision. The requester hears of the decision by email, through Envoi.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html } from '../../../ui/html.ts';
import { csrfField, errorSummary, notice, sendPage, textInput, type FieldError } from '../../../ui/layout.ts';
import { requirePlatformAdmin } from '../../../ui/guards.ts';
import type { UiContext } from '../../../ui/context.ts';
import type { AdminDeps } from '../../../ui/admin-deps.ts';
import {
  allServicesWithVolumes,
  decideGoLive,
  latestGoLiveRequest,
  limitProblems,
  pendingGoLiveRequests,
  serviceSettings,
  ServiceError,
  setDailyLimits,
  setServiceActive,
  type DailyLimitsInput,
  type GoLiveRequest,
} from '../../../services/services.ts';
import { SYSTEM_SERVICE_ID } from '../../../accounts/account-messages.ts';
import { requestSection } from './views.ts';
type Form = Record<string, string | undefined>;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DONE = ['limits', 'suspended', 'restored', 'approved', 'declined'] as const;

export async function platformServicesRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const db = deps.services.database.db;
  const { directory } = deps.services;
  app.addHook('preHandler', requirePlatformAdmin);
  const actor = (request: FastifyRequest) => ({ actorId: request.ui.account!.id, ip: request.ip });
  const id = (raw: string) => (UUID.test(raw) ? raw.toLowerCase() : null);

  app.get('/platform-admin/services', async (request, reply) => {
    const { ui } = request;
    const { t } = ui;
    const services = (await allServicesWithVolumes(db)).filter((s) => s.id !== SYSTEM_SERVICE_ID);
    return sendPage(reply, ui, {
      title: t('platformServices.title'),
      body: html`<h1>${t('platformServices.title')}</h1>
<p><a href="/platform-admin/live-requests">${t('platformServices.requests.title')}</a></p>
${
  services.length === 0
    ? html`<p>${t('platformServices.none')}</p>`
    : html`<table>
  <caption>${t('platformServices.caption')}</caption>
  <thead><tr><th scope="col">${t('services.field.name')}</th><th scope="col">${t('platformServices.mode')}</th><th scope="col">${t('platformServices.state')}</th><th scope="col" class="numeric">${t('platformServices.emails7')}</th><th scope="col" class="numeric">${t('platformServices.sms7')}</th></tr></thead>
  <tbody>${services.map(
    (s) => html`<tr>
    <td><a href="/platform-admin/services/${s.id}">${s.name}</a></td>
    <td>${t(s.restricted ? 'services.mode.trial' : 'services.mode.live')}${s.goLiveRequested && html` <span class="muted">(${t('platformServices.requested')})</span>`}</td>
    <td>${t(s.active ? 'platformServices.active' : 'services.mode.suspended')}</td>
    <td class="numeric">${ui.formatNumber(s.email)}</td>
    <td class="numeric">${ui.formatNumber(s.sms)}</td>
  </tr>`,
  )}</tbody>
</table>`
}`,
    });
  });

  const servicePage = async (
    reply: FastifyReply,
    ui: UiContext,
    serviceId: string,
    v: { limits?: DailyLimitsInput; reason?: string; errors?: FieldError[]; done?: string },
    status = 200,
  ) => {
    const { t } = ui;
    const s = await serviceSettings(db, serviceId);
    if (!s) return reply.redirect('/platform-admin/services', 303);
    const latest = await latestGoLiveRequest(db, serviceId);
    const limits = v.limits ?? {
      email: String(s.limits.email),
      sms: String(s.limits.sms),
      internationalSms: String(s.limits.internationalSms),
    };
    const base = `/platform-admin/services/${s.id}`;
    return sendPage(
      reply,
      ui,
      {
        title: s.name,
        errors: v.errors,
        body: html`${errorSummary(ui, v.errors)}${v.done && notice(html`<p>${t(`platformServices.done.${v.done}`)}</p>`, 'success')}
<h1>${s.name}</h1>
<dl class="summary-list">
  <dt>${t('platformServices.mode')}</dt><dd>${t(s.restricted ? 'services.mode.trial' : 'services.mode.live')}${s.goLiveAt && html` (${ui.formatDateTime(s.goLiveAt)})`}</dd>
  <dt>${t('platformServices.state')}</dt><dd>${s.active ? t('platformServices.active') : html`${t('services.mode.suspended')}${s.suspendedAt && html` (${ui.formatDateTime(s.suspendedAt)})`}`}</dd>
</dl>
<p><a href="/services/${s.id}/settings">${t('platformServices.openSettings')}</a> · <a href="/services/${s.id}/team">${t('platformServices.openTeam')}</a></p>
${latest?.state === 'pending' && requestSection(ui, latest, v)}
<h2>${t('platformServices.limits.title')}</h2>
<form method="post" action="${base}/limits" novalidate>${csrfField(ui)}
  ${textInput({ id: 'email', label: t('settings.limits.email'), value: limits.email, inputmode: 'numeric', className: 'short', errors: v.errors })}
  ${textInput({ id: 'sms', label: t('settings.limits.sms'), value: limits.sms, inputmode: 'numeric', className: 'short', errors: v.errors })}
  ${textInput({ id: 'international_sms', label: t('settings.limits.internationalSms'), value: limits.internationalSms, inputmode: 'numeric', className: 'short', errors: v.errors })}
  <button type="submit">${t('platformServices.limits.save')}</button>
</form>
<h2>${s.active ? t('platformServices.suspend.title') : t('platformServices.restore.title')}</h2>
<p>${s.active ? t('platformServices.suspend.intro') : t('platformServices.restore.intro')}</p>
<form method="post" action="${base}/${s.active ? 'suspend' : 'restore'}">${csrfField(ui)}
  <button type="submit" class="${s.active ? 'danger' : ''}">${s.active ? t('platformServices.suspend.submit') : t('platformServices.restore.submit')}</button>
</form>`,
      },
      status,
    );
  };

  app.get<{ Params: { serviceId: string }; Querystring: { done?: string } }>(
    '/platform-admin/services/:serviceId',
    async (request, reply) => {
      const serviceId = id(request.params.serviceId);
      if (!serviceId) return reply.redirect('/platform-admin/services', 303);
      return servicePage(reply, request.ui, serviceId, { done: DONE.find((d) => d === request.query.done) });
    },
  );

  app.post<{ Params: { serviceId: string }; Body: Form }>(
    '/platform-admin/services/:serviceId/limits',
    async (request, reply) => {
      const { ui } = request;
      const serviceId = id(request.params.serviceId);
      if (!serviceId) return reply.redirect('/platform-admin/services', 303);
      const limits = {
        email: (request.body.email ?? '').trim(),
        sms: (request.body.sms ?? '').trim(),
        internationalSms: (request.body.international_sms ?? '').trim(),
      };
      const problems = limitProblems(limits);
      if (problems.length) {
        const field = { email: 'email', sms: 'sms', internationalSms: 'international_sms' } as const;
        return servicePage(
          reply,
          ui,
          serviceId,
          {
            limits,
            errors: problems.map((p) => ({ field: field[p], message: ui.t('platformServices.limits.invalid') })),
          },
          400,
        );
      }
      await setDailyLimits(db, { serviceId, ...limits, ...actor(request) });
      directory.invalidate(serviceId);
      return reply.redirect(`/platform-admin/services/${serviceId}?done=limits`, 303);
    },
  );

  for (const action of ['suspend', 'restore'] as const) {
    app.post<{ Params: { serviceId: string } }>(
      `/platform-admin/services/:serviceId/${action}`,
      async (request, reply) => {
        const serviceId = id(request.params.serviceId);
        if (!serviceId || serviceId === SYSTEM_SERVICE_ID) return reply.redirect('/platform-admin/services', 303);
        await setServiceActive(db, { serviceId, active: action === 'restore', ...actor(request) });
        directory.invalidate(serviceId);
        return reply.redirect(
          `/platform-admin/services/${serviceId}?done=${action === 'restore' ? 'restored' : 'suspended'}`,
          303,
        );
      },
    );
  }

  // ---- requests to go live ------------------------------------------------------------------------------------

  app.get<{ Querystring: { done?: string } }>('/platform-admin/live-requests', async (request, reply) => {
    const { ui } = request;
    const { t } = ui;
    const requests = await pendingGoLiveRequests(db);
    const done = DONE.find((d) => d === request.query.done);
    return sendPage(reply, ui, {
      title: t('platformServices.requests.title'),
      body: html`${done && notice(html`<p>${t(`platformServices.done.${done}`)}</p>`, 'success')}
<h1>${t('platformServices.requests.title')}</h1>
${
  requests.length === 0
    ? html`<p>${t('platformServices.requests.none')}</p>`
    : html`<table>
  <caption class="visually-hidden">${t('platformServices.requests.title')}</caption>
  <thead><tr><th scope="col">${t('services.field.name')}</th><th scope="col">${t('platformServices.requests.by')}</th><th scope="col">${t('platformServices.requests.when')}</th></tr></thead>
  <tbody>${requests.map(
    (r) =>
      html`<tr><td><a href="/platform-admin/services/${r.serviceId}">${r.serviceName}</a></td><td>${r.requestedBy?.email ?? '–'}</td><td>${ui.formatDateTime(r.createdAt)}</td></tr>`,
  )}</tbody>
</table>`
}`,
    });
  });

  for (const decision of ['approve', 'decline'] as const) {
    app.post<{ Params: { requestId: string }; Body: Form }>(
      `/platform-admin/live-requests/:requestId/${decision}`,
      async (request, reply) => {
        const { ui } = request;
        const requestId = id(request.params.requestId);
        if (!requestId) return reply.redirect('/platform-admin/live-requests', 303);
        const reason = (request.body.reason ?? '').trim();
        let decided: GoLiveRequest | null;
        try {
          decided = await decideGoLive(db, { requestId, approve: decision === 'approve', reason, ...actor(request) });
        } catch (err) {
          if (!(err instanceof ServiceError)) throw err;
          const pending = (await pendingGoLiveRequests(db)).find((r) => r.id === requestId);
          if (!pending) return reply.redirect('/platform-admin/live-requests', 303);
          return servicePage(
            reply,
            ui,
            pending.serviceId,
            { reason, errors: [{ field: 'reason', message: ui.t('platformServices.requests.reasonMissing') }] },
            400,
          );
        }
        if (!decided) return reply.redirect('/platform-admin/live-requests', 303);
        directory.invalidate(decided.serviceId);
        if (decided.requestedBy) {
          const to = decided.requestedBy;
          const link = `${deps.siteRoot(request)}/services/${decided.serviceId}/settings`;
          if (decision === 'approve')
            await deps.messages.deliver('go-live-approved', to.language, to.email, {
              name: to.name,
              service: decided.serviceName,
              link,
            });
          else
            await deps.messages.deliver('go-live-declined', to.language, to.email, {
              name: to.name,
              service: decided.serviceName,
              reason,
              link,
            });
        }
        return reply.redirect(
          `/platform-admin/services/${decided.serviceId}?done=${decision === 'approve' ? 'approved' : 'declined'}`,
          303,
        );
      },
    );
  }
}
