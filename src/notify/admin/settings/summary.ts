import type { FastifyInstance } from 'fastify';
import { html, type HtmlValue } from '../../../platform/ui/html.ts';
import { notice } from '../../../platform/ui/layout.ts';
import { sendServicePage } from '../../../platform/ui/service-layout.ts';
import type { NotifyAdminDeps } from '../admin-deps.ts';
import { latestGoLiveRequest } from '../../settings/go-live.ts';
import { listSenders } from '../../settings/senders.ts';
import { CALLBACK_TYPES, ensureWebhookSecret, listCallbacks } from '../../settings/callback-settings.ts';
import { settingsScope, DONE } from './scope.ts';

export async function summaryRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  const { db, config, secrets, manager, path, load } = settingsScope(deps);

  // ---- the summary ------------------------------------------------------------------------------------------

  app.get<{ Params: { serviceId: string }; Querystring: { done?: string } }>(
    '/services/:serviceId/settings',
    { preHandler: manager },
    async (request, reply) => {
      const { ui, service } = request;
      const { t } = ui;
      const s = await load(service);
      const [replyTos, smsSenders, callbacks, request_] = await Promise.all([
        listSenders(db, 'email_reply_to', service.id),
        listSenders(db, 'sms_senders', service.id),
        listCallbacks(db, service.id),
        latestGoLiveRequest(db, service.id),
      ]);
      const secret = callbacks.length > 0 ? await ensureWebhookSecret(db, secrets, service.id) : null;
      const shown = DONE.find((d) => d === request.query.done);
      const row = (label: string, value: HtmlValue, href: string | null, linkText = t('settings.change')) =>
        html`<dt>${label}</dt><dd>${value}${href && html` <a href="${href}">${linkText}<span class="visually-hidden"> ${label}</span></a>`}</dd>`;
      const values = (list: { value: string; isDefault: boolean }[]) =>
        list.length === 0
          ? t('settings.notSet')
          : html`${list.map((x, i) => html`${i > 0 && ', '}${x.value}${x.isDefault && list.length > 1 && html` (${t('settings.default')})`}`)}`;
      const goLive = s.restricted
        ? request_?.state === 'pending'
          ? t('settings.goLive.pending')
          : request_?.state === 'declined'
            ? t('settings.goLive.declinedShort')
            : t('settings.goLive.trial')
        : t('settings.goLive.live');
      return sendServicePage(reply, ui, service, 'settings', {
        title: t('settings.title'),
        body: html`${shown && notice(html`<p>${t(`settings.done.${shown}`)}</p>`, 'success')}
<h1>${t('settings.title')}</h1>
<h2>${t('settings.general')}</h2>
<dl class="summary-list">
  ${row(t('services.field.name'), s.name, path(service, '/name'))}
  ${row(t('settings.emailSender.name'), s.emailSenderName ?? s.name, path(service, '/email-sender'))}
  ${row(t('settings.emailSender.address'), `${s.emailSenderLocalPart}@${config.emailDomain}`, path(service, '/email-sender'))}
  ${row(t('settings.replyTo.title'), values(replyTos), path(service, '/reply-to'), t('settings.manage'))}
  ${row(t('settings.smsSenders.title'), values(smsSenders), path(service, '/sms-senders'), t('settings.manage'))}
  ${row(t('settings.retention.title'), t('settings.retention.days', { days: ui.formatNumber(s.dataRetentionDays) }), path(service, '/retention'))}
  ${row(t('settings.branding.title'), t(`settings.branding.option.${s.branding}`), path(service, '/branding'))}
</dl>
<h2>${t('settings.limits.title')}</h2>
<p>${t('settings.limits.intro')}</p>
<dl class="summary-list">
  ${row(t('settings.limits.email'), ui.formatNumber(s.limits.email), null)}
  ${row(t('settings.limits.sms'), ui.formatNumber(s.limits.sms), null)}
  ${row(t('settings.limits.internationalSms'), ui.formatNumber(s.limits.internationalSms), null)}
</dl>
<h2>${t('settings.callbacks.title')}</h2>
<p>${t('settings.callbacks.intro')}</p>
<dl class="summary-list">
  ${CALLBACK_TYPES.map((type) => {
    const c = callbacks.find((x) => x.type === type);
    return row(
      t(`settings.callbacks.type.${type}`),
      c
        ? html`${c.url}${c.disabledAt && html` <strong>(${t('settings.callbacks.disabled', { date: ui.formatDateTime(c.disabledAt) })})</strong>`}`
        : t('settings.notSet'),
      path(service, `/callbacks/${type}`),
    );
  })}
</dl>
${
  secret
    ? html`<p>${t('settings.callbacks.secretIntro')}</p><p class="secret" id="webhook-secret">${secret}</p>`
    : html`<p>${t('settings.callbacks.secretLater')}</p>`
}
<h2>${t('settings.goLive.title')}</h2>
<p>${goLive}</p>
${s.restricted && request_?.state !== 'pending' && html`<p><a href="${path(service, '/go-live')}">${t('settings.goLive.start')}</a></p>`}`,
      });
    },
  );
}
