import type { FastifyInstance, FastifyReply } from 'fastify';
import { html, type Html } from '../../../platform/ui/html.ts';
import { csrfField, notice, textInput, type FieldError } from '../../../platform/ui/layout.ts';
import type { UiContext } from '../../../platform/ui/context.ts';
import type { ServiceContext } from '../../../platform/ui/service-context.ts';
import { servicePath } from '../../../platform/ui/service-layout.ts';
import type { NotifyAdminDeps } from '../admin-deps.ts';
import { goLiveChecklist, latestGoLiveRequest, requestGoLive } from '../../settings/go-live.ts';
import { SettingsError } from '../../settings/settings-error.ts';
import { settingsScope, text, type Form } from './scope.ts';

export async function goLiveRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  const { db, manager, path, done, page, load } = settingsScope(deps);

  // ---- going live -------------------------------------------------------------------------------------------------

  const goLivePage = async (
    reply: FastifyReply,
    ui: UiContext,
    service: ServiceContext,
    v: { mainUse?: string; email?: string; sms?: string; errors?: FieldError[] },
    status = 200,
  ) => {
    const { t } = ui;
    const s = await load(service);
    const checklist = await goLiveChecklist(db, service.id);
    const latest = await latestGoLiveRequest(db, service.id);
    const item = (ok: boolean, label: string, link: string | null): Html =>
      html`<li class="${ok ? 'done' : 'to-do'}"><span class="status">${ok ? t('settings.goLive.done') : t('settings.goLive.toDo')}</span> ${link && !ok ? html`<a href="${link}">${label}</a>` : label}</li>`;
    let body: Html;
    if (!s.restricted) body = html`<p>${t('settings.goLive.live')}</p>`;
    else if (latest?.state === 'pending') body = html`<p>${t('settings.goLive.pending')}</p>`;
    else
      body = html`${
        latest?.state === 'declined' &&
        notice(html`<p>${t('settings.goLive.declined')}</p><p>${latest.declineReason}</p>`, 'warning')
      }
<p>${t('settings.goLive.intro')}</p>
<h2>${t('settings.goLive.checklist')}</h2>
<ul class="checklist">
  ${item(checklist.hasManagers, t('settings.goLive.managers', { count: ui.formatNumber(checklist.managers) }), servicePath(service, '/team/invite'))}
  ${item(checklist.hasTemplates, t('settings.goLive.templates'), servicePath(service, '/templates'))}
  ${checklist.needsReplyTo && item(checklist.hasReplyTo, t('settings.goLive.replyTo'), path(service, '/reply-to'))}
</ul>
${
  checklist.ready
    ? html`<form method="post" action="${path(service, '/go-live')}" novalidate>${csrfField(ui)}
  <div class="field${v.errors?.some((e) => e.field === 'main_use') ? ' has-error' : ''}">
    <label for="main_use">${t('settings.goLive.mainUse')}</label>
    <span class="hint" id="main_use-hint">${t('settings.goLive.mainUseHint')}</span>
    ${v.errors?.filter((e) => e.field === 'main_use').map((e) => html`<span class="error-message" id="main_use-error">${e.message}</span>`)}
    <textarea id="main_use" name="main_use" rows="4" aria-describedby="main_use-hint${v.errors?.some((e) => e.field === 'main_use') ? ' main_use-error' : ''}">${v.mainUse ?? ''}</textarea>
  </div>
  ${textInput({ id: 'expected_email', label: t('settings.goLive.expectedEmail'), hint: t('settings.goLive.volumeHint'), value: v.email, inputmode: 'numeric', className: 'short', errors: v.errors })}
  ${textInput({ id: 'expected_sms', label: t('settings.goLive.expectedSms'), hint: t('settings.goLive.volumeHint'), value: v.sms, inputmode: 'numeric', className: 'short', errors: v.errors })}
  <button type="submit">${t('settings.goLive.submit')}</button>
</form>`
    : html`<p>${t('settings.goLive.notReady')}</p>`
}`;
    return page(reply, ui, service, t('settings.goLive.title'), body, v.errors, status);
  };

  app.get<{ Params: { serviceId: string } }>(
    '/services/:serviceId/settings/go-live',
    { preHandler: manager },
    async (request, reply) => goLivePage(reply, request.ui, request.service, {}),
  );

  app.post<{ Params: { serviceId: string }; Body: Form }>(
    '/services/:serviceId/settings/go-live',
    { preHandler: manager },
    async (request, reply) => {
      const { ui, service } = request;
      const v = {
        mainUse: text(request.body.main_use),
        email: text(request.body.expected_email),
        sms: text(request.body.expected_sms),
      };
      const errors: FieldError[] = [];
      if (!v.mainUse) errors.push({ field: 'main_use', message: ui.t('services.error.main-use-missing') });
      const volume = (raw: string) => /^[\d\s,\u00a0\u202f]{1,15}$/.test(raw) && /\d/.test(raw);
      if (!volume(v.email)) errors.push({ field: 'expected_email', message: ui.t('services.error.volume-invalid') });
      if (!volume(v.sms)) errors.push({ field: 'expected_sms', message: ui.t('services.error.volume-invalid') });
      if (errors.length) return goLivePage(reply, ui, service, { ...v, errors }, 400);
      try {
        await requestGoLive(db, {
          serviceId: service.id,
          userId: ui.account!.id,
          mainUse: v.mainUse,
          expectedDailyEmail: v.email,
          expectedDailySms: v.sms,
          ip: request.ip,
        });
      } catch (err) {
        if (!(err instanceof SettingsError)) throw err;
        const field = err.code === 'volume-invalid' ? 'expected_email' : 'main_use';
        return goLivePage(
          reply,
          ui,
          service,
          { ...v, errors: [{ field, message: ui.t(`services.error.${err.code}`) }] },
          400,
        );
      }
      return done(reply, service, 'go-live');
    },
  );
}
