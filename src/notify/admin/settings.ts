/**
 * A service's settings (`/services/:serviceId/settings`, manage_service): name, email sender, reply-to addresses,
 * text message senders, data retention, the daily limits (shown; platform admins change them), callbacks and their
 * signing secret, email branding with an uploaded logo, and the request to go live.
 */
import { acceptMultipart, type MultipartForm } from '../../platform/ui/multipart.ts';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { html, type Html, type HtmlValue } from '../../platform/ui/html.ts';
import { csrfField, errorSummary, notice, radios, textInput, type FieldError } from '../../platform/ui/layout.ts';
import type { UiContext } from '../../platform/ui/context.ts';
import { requireService, type ServiceContext } from '../../platform/ui/service-context.ts';
import { sendServicePage, servicePath } from '../../platform/ui/service-layout.ts';
import type { AdminDeps } from '../../platform/ui/admin-deps.ts';
import type { CallbackType, EmailBranding } from '../../platform/database/schema.ts';
import {
  addSender,
  BrandingError,
  emailLogo,
  goLiveChecklist,
  latestGoLiveRequest,
  listSenders,
  LOGO_MAX_BYTES,
  makeDefaultSender,
  removeSender,
  renameService,
  requestGoLive,
  RETENTION_DAYS,
  serviceSettings,
  ServiceError,
  setBranding,
  setEmailSender,
  setRetention,
  type ServiceSettings,
} from '../../platform/services/services.ts';
import {
  CALLBACK_TYPES,
  callbackProblems,
  ensureWebhookSecret,
  listCallbacks,
  removeCallback,
  setCallback,
} from '../settings/callback-settings.ts';

type Form = Record<string, string | string[] | undefined>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const text = (value: unknown): string =>
  (typeof value === 'string' ? value : Array.isArray(value) && typeof value[0] === 'string' ? value[0] : '').trim();
const DONE = [
  'name',
  'email-sender',
  'reply-to',
  'sms-senders',
  'retention',
  'callbacks',
  'branding',
  'go-live',
] as const;

const SENDER_LISTS = {
  'reply-to': { table: 'email_reply_to', words: 'settings.replyTo' },
  'sms-senders': { table: 'sms_senders', words: 'settings.smsSenders' },
} as const;
type SenderList = keyof typeof SENDER_LISTS;

export async function settingsRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const db = deps.services.database.db;
  const { config, directory, secrets } = deps.services;
  const manager = requireService(db, 'manage_service');
  const path = (s: ServiceContext, p = '') => servicePath(s, `/settings${p}`);
  const done = (reply: FastifyReply, s: ServiceContext, what: (typeof DONE)[number]) => {
    directory.invalidate(s.id);
    return reply.redirect(`${path(s)}?done=${what}`, 303);
  };

  // The branding form uploads a logo; the bound is well above the logo's own limit, so that a file a little too big
  // gets the form's clear message rather than a refused request.
  acceptMultipart(app, 4 * 1024 * 1024);

  const page = (
    reply: FastifyReply,
    ui: UiContext,
    service: ServiceContext,
    title: string,
    body: HtmlValue,
    errors?: FieldError[],
    status = 200,
  ) =>
    sendServicePage(
      reply,
      ui,
      service,
      'settings',
      {
        title,
        errors,
        body: html`${errorSummary(ui, errors)}<h1>${title}</h1>${body}<p><a href="${path(service)}">${ui.t('settings.back')}</a></p>`,
      },
      status,
    );

  const load = async (service: ServiceContext): Promise<ServiceSettings> => (await serviceSettings(db, service.id))!;

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

  // ---- name and email sender ----------------------------------------------------------------------------------

  const namePage = (
    reply: FastifyReply,
    ui: UiContext,
    service: ServiceContext,
    name: string,
    errors?: FieldError[],
    status = 200,
  ) =>
    page(
      reply,
      ui,
      service,
      ui.t('settings.name.title'),
      html`<form method="post" action="${path(service, '/name')}" novalidate>${csrfField(ui)}
  ${textInput({ id: 'name', label: ui.t('services.field.name'), hint: ui.t('services.field.nameHint'), value: name, errors })}
  <button type="submit">${ui.t('settings.save')}</button></form>`,
      errors,
      status,
    );

  app.get<{ Params: { serviceId: string } }>(
    '/services/:serviceId/settings/name',
    { preHandler: manager },
    async (request, reply) => namePage(reply, request.ui, request.service, (await load(request.service)).name),
  );

  app.post<{ Params: { serviceId: string }; Body: Form }>(
    '/services/:serviceId/settings/name',
    { preHandler: manager },
    async (request, reply) => {
      const { ui, service } = request;
      const name = text(request.body.name);
      try {
        await renameService(db, service.id, name);
      } catch (err) {
        if (!(err instanceof ServiceError)) throw err;
        return namePage(
          reply,
          ui,
          service,
          name,
          [{ field: 'name', message: ui.t(`services.error.${err.code}`) }],
          400,
        );
      }
      return done(reply, service, 'name');
    },
  );

  const senderPage = (
    reply: FastifyReply,
    ui: UiContext,
    service: ServiceContext,
    v: { senderName: string; localPart: string },
    errors?: FieldError[],
    status = 200,
  ) =>
    page(
      reply,
      ui,
      service,
      ui.t('settings.emailSender.title'),
      html`<form method="post" action="${path(service, '/email-sender')}" novalidate>${csrfField(ui)}
  ${textInput({ id: 'sender_name', label: ui.t('settings.emailSender.name'), hint: ui.t('settings.emailSender.nameHint'), value: v.senderName, errors })}
  ${textInput({ id: 'email_sender', label: ui.t('services.field.localPart'), hint: ui.t('settings.emailSender.localPartHint', { domain: config.emailDomain }), value: v.localPart, errors })}
  <button type="submit">${ui.t('settings.save')}</button></form>`,
      errors,
      status,
    );

  app.get<{ Params: { serviceId: string } }>(
    '/services/:serviceId/settings/email-sender',
    { preHandler: manager },
    async (request, reply) => {
      const s = await load(request.service);
      return senderPage(reply, request.ui, request.service, {
        senderName: s.emailSenderName ?? '',
        localPart: s.emailSenderLocalPart,
      });
    },
  );

  app.post<{ Params: { serviceId: string }; Body: Form }>(
    '/services/:serviceId/settings/email-sender',
    { preHandler: manager },
    async (request, reply) => {
      const { ui, service } = request;
      const v = { senderName: text(request.body.sender_name), localPart: text(request.body.email_sender) };
      try {
        await setEmailSender(db, service.id, v);
      } catch (err) {
        if (!(err instanceof ServiceError)) throw err;
        const field = err.code === 'sender-name-too-long' ? 'sender_name' : 'email_sender';
        return senderPage(reply, ui, service, v, [{ field, message: ui.t(`services.error.${err.code}`) }], 400);
      }
      return done(reply, service, 'email-sender');
    },
  );

  // ---- reply-to addresses and text message senders -----------------------------------------------------------

  const listPage = async (
    reply: FastifyReply,
    ui: UiContext,
    service: ServiceContext,
    list: SenderList,
    v: { value?: string; errors?: FieldError[] },
    status = 200,
  ) => {
    const { t } = ui;
    const { table, words } = SENDER_LISTS[list];
    const senders = await listSenders(db, table, service.id);
    return page(
      reply,
      ui,
      service,
      t(`${words}.title`),
      html`<p>${t(`${words}.intro`)}</p>
${
  senders.length === 0
    ? html`<p>${t(`${words}.empty`)}</p>`
    : html`<table><caption class="visually-hidden">${t(`${words}.title`)}</caption>
  <thead><tr><th scope="col">${t(`${words}.column`)}</th><th scope="col">${t('settings.default')}</th><th scope="col">${t('team.actions')}</th></tr></thead>
  <tbody>${senders.map(
    (
      s,
    ) => html`<tr><td>${s.value}</td><td>${s.isDefault ? t('settings.yes') : t('settings.no')}</td><td><div class="actions">
      ${!s.isDefault && html`<form method="post" action="${path(service, `/${list}/${s.id}/default`)}">${csrfField(ui)}<button type="submit" class="secondary">${t('settings.makeDefault')}<span class="visually-hidden"> ${s.value}</span></button></form>`}
      ${(!s.isDefault || senders.length === 1) && html`<form method="post" action="${path(service, `/${list}/${s.id}/remove`)}">${csrfField(ui)}<button type="submit" class="secondary">${t('settings.remove')}<span class="visually-hidden"> ${s.value}</span></button></form>`}
    </div></td></tr>`,
  )}</tbody></table>`
}
<h2>${t(`${words}.add`)}</h2>
<form method="post" action="${path(service, `/${list}`)}" novalidate>${csrfField(ui)}
  ${textInput({ id: 'value', label: t(`${words}.column`), hint: t(`${words}.hint`), type: list === 'reply-to' ? 'email' : 'text', value: v.value, errors: v.errors })}
  <div class="radio checkbox"><input type="checkbox" id="make_default" name="make_default" value="yes"><label for="make_default">${t('settings.makeDefaultNew')}</label></div>
  <button type="submit">${t(`${words}.add`)}</button>
</form>`,
      v.errors,
      status,
    );
  };

  for (const list of Object.keys(SENDER_LISTS) as SenderList[]) {
    const { table } = SENDER_LISTS[list];
    app.get<{ Params: { serviceId: string } }>(
      `/services/:serviceId/settings/${list}`,
      { preHandler: manager },
      async (request, reply) => listPage(reply, request.ui, request.service, list, {}),
    );
    app.post<{ Params: { serviceId: string }; Body: Form }>(
      `/services/:serviceId/settings/${list}`,
      { preHandler: manager },
      async (request, reply) => {
        const { ui, service } = request;
        const value = text(request.body.value);
        if (!value)
          return listPage(
            reply,
            ui,
            service,
            list,
            { value, errors: [{ field: 'value', message: ui.t(`services.error.${list}-missing`) }] },
            400,
          );
        try {
          await addSender(db, table, service.id, {
            value,
            makeDefault: text(request.body.make_default) === 'yes',
            phoneRegion: config.phoneRegion,
          });
        } catch (err) {
          if (!(err instanceof ServiceError)) throw err;
          return listPage(
            reply,
            ui,
            service,
            list,
            { value, errors: [{ field: 'value', message: ui.t(`services.error.${err.code}`) }] },
            400,
          );
        }
        return done(reply, service, list);
      },
    );
    app.post<{ Params: { serviceId: string; id: string } }>(
      `/services/:serviceId/settings/${list}/:id/default`,
      { preHandler: manager },
      async (request, reply) => {
        if (UUID.test(request.params.id))
          await makeDefaultSender(db, table, request.service.id, request.params.id.toLowerCase());
        return done(reply, request.service, list);
      },
    );
    app.post<{ Params: { serviceId: string; id: string } }>(
      `/services/:serviceId/settings/${list}/:id/remove`,
      { preHandler: manager },
      async (request, reply) => {
        const { ui, service } = request;
        try {
          if (UUID.test(request.params.id)) await removeSender(db, table, service.id, request.params.id.toLowerCase());
        } catch (err) {
          if (!(err instanceof ServiceError)) throw err;
          return listPage(
            reply,
            ui,
            service,
            list,
            { errors: [{ field: 'value', message: ui.t(`services.error.${err.code}`) }] },
            400,
          );
        }
        return done(reply, service, list);
      },
    );
  }

  // ---- data retention ---------------------------------------------------------------------------------------------

  const retentionPage = (
    reply: FastifyReply,
    ui: UiContext,
    service: ServiceContext,
    days: string,
    errors?: FieldError[],
    status = 200,
  ) =>
    page(
      reply,
      ui,
      service,
      ui.t('settings.retention.title'),
      html`<p>${ui.t('settings.retention.intro')}</p>
<form method="post" action="${path(service, '/retention')}" novalidate>${csrfField(ui)}
  ${textInput({ id: 'days', label: ui.t('settings.retention.label'), hint: ui.t('settings.retention.hint', { min: RETENTION_DAYS.min, max: RETENTION_DAYS.max }), value: days, inputmode: 'numeric', className: 'short', errors })}
  <button type="submit">${ui.t('settings.save')}</button></form>`,
      errors,
      status,
    );

  app.get<{ Params: { serviceId: string } }>(
    '/services/:serviceId/settings/retention',
    { preHandler: manager },
    async (request, reply) =>
      retentionPage(reply, request.ui, request.service, String((await load(request.service)).dataRetentionDays)),
  );

  app.post<{ Params: { serviceId: string }; Body: Form }>(
    '/services/:serviceId/settings/retention',
    { preHandler: manager },
    async (request, reply) => {
      const { ui, service } = request;
      const days = text(request.body.days);
      try {
        await setRetention(db, service.id, days);
      } catch (err) {
        if (!(err instanceof ServiceError)) throw err;
        return retentionPage(
          reply,
          ui,
          service,
          days,
          [
            {
              field: 'days',
              message: ui.t('services.error.retention-invalid', { min: RETENTION_DAYS.min, max: RETENTION_DAYS.max }),
            },
          ],
          400,
        );
      }
      return done(reply, service, 'retention');
    },
  );

  // ---- callbacks ----------------------------------------------------------------------------------------------

  const callbackType = (raw: string): CallbackType | null => CALLBACK_TYPES.find((c) => c === raw) ?? null;

  const callbackPage = async (
    reply: FastifyReply,
    ui: UiContext,
    service: ServiceContext,
    type: CallbackType,
    v: { url?: string; errors?: FieldError[] },
    status = 200,
  ) => {
    const { t } = ui;
    const current = (await listCallbacks(db, service.id)).find((c) => c.type === type);
    return page(
      reply,
      ui,
      service,
      t(`settings.callbacks.type.${type}`),
      html`<p>${t(`settings.callbacks.about.${type}`)}</p>
<form method="post" action="${path(service, `/callbacks/${type}`)}" novalidate>${csrfField(ui)}
  ${textInput({ id: 'url', label: t('settings.callbacks.url'), hint: t('settings.callbacks.urlHint'), value: v.url ?? current?.url ?? '', errors: v.errors })}
  ${textInput({ id: 'bearer_token', label: t('settings.callbacks.token'), hint: t('settings.callbacks.tokenHint'), type: 'password', autocomplete: 'off', errors: v.errors })}
  <button type="submit">${t('settings.save')}</button>
</form>
${current && html`<form method="post" action="${path(service, `/callbacks/${type}/remove`)}">${csrfField(ui)}<button type="submit" class="secondary">${t('settings.callbacks.remove')}</button></form>`}`,
      v.errors,
      status,
    );
  };

  app.get<{ Params: { serviceId: string; type: string } }>(
    '/services/:serviceId/settings/callbacks/:type',
    { preHandler: manager },
    async (request, reply) => {
      const type = callbackType(request.params.type);
      if (!type) return reply.redirect(path(request.service), 303);
      return callbackPage(reply, request.ui, request.service, type, {});
    },
  );

  app.post<{ Params: { serviceId: string; type: string }; Body: Form }>(
    '/services/:serviceId/settings/callbacks/:type',
    { preHandler: manager },
    async (request, reply) => {
      const { ui, service } = request;
      const type = callbackType(request.params.type);
      if (!type) return reply.redirect(path(service), 303);
      const url = text(request.body.url);
      const bearerToken = typeof request.body.bearer_token === 'string' ? request.body.bearer_token : '';
      const problems = callbackProblems({ url, bearerToken }, config.callbacks.allowedHosts);
      const errors: FieldError[] = [];
      const urlProblem = problems.find((p) => p.startsWith('url:'));
      if (urlProblem) {
        const key = !url
          ? 'url-missing'
          : urlProblem.includes('https://')
            ? 'url-https'
            : urlProblem.includes('user name')
              ? 'url-credentials'
              : 'url-invalid';
        errors.push({ field: 'url', message: ui.t(`settings.callbacks.error.${key}`) });
      }
      if (problems.some((p) => p.startsWith('bearer_token:')))
        errors.push({ field: 'bearer_token', message: ui.t('settings.callbacks.error.token-short') });
      if (errors.length) return callbackPage(reply, ui, service, type, { url, errors }, 400);
      await setCallback(
        db,
        secrets,
        service.id,
        type,
        { url, bearerToken },
        { allowedHosts: config.callbacks.allowedHosts },
      );
      return done(reply, service, 'callbacks');
    },
  );

  app.post<{ Params: { serviceId: string; type: string } }>(
    '/services/:serviceId/settings/callbacks/:type/remove',
    { preHandler: manager },
    async (request, reply) => {
      const type = callbackType(request.params.type);
      if (type) await removeCallback(db, request.service.id, type);
      return done(reply, request.service, 'callbacks');
    },
  );

  // ---- email branding -------------------------------------------------------------------------------------------

  const brandingPage = async (
    reply: FastifyReply,
    ui: UiContext,
    service: ServiceContext,
    v: { branding?: string; altEn?: string; altFr?: string; errors?: FieldError[] },
    status = 200,
  ) => {
    const { t } = ui;
    const s = await load(service);
    const options = (['none', 'gc', 'logo'] as const).map((b) => ({
      value: b,
      label: t(`settings.branding.option.${b}`),
      hint: t(`settings.branding.hint.${b}`),
    }));
    return page(
      reply,
      ui,
      service,
      t('settings.branding.title'),
      html`${
        s.logo &&
        html`<figure class="logo-preview"><img width="240" src="${path(service, '/branding/logo')}" alt="${ui.locale === 'fr' ? s.logo.altFr : s.logo.altEn}"><figcaption>${t('settings.branding.current')}</figcaption></figure>`
      }
<form method="post" action="${path(service, '/branding')}" enctype="multipart/form-data" novalidate>${csrfField(ui)}
  ${radios({ id: 'branding', name: 'branding', legend: t('settings.branding.legend'), options, value: v.branding ?? s.branding, errors: v.errors })}
  <div class="field${v.errors?.some((e) => e.field === 'logo') ? ' has-error' : ''}">
    <label for="logo">${t('settings.branding.logo')}</label>
    <span class="hint" id="logo-hint">${t('settings.branding.logoHint', { size: ui.formatNumber(LOGO_MAX_BYTES / 1024) })}</span>
    ${v.errors?.filter((e) => e.field === 'logo').map((e) => html`<span class="error-message" id="logo-error">${e.message}</span>`)}
    <input type="file" id="logo" name="logo" accept="image/png,image/jpeg" aria-describedby="logo-hint${v.errors?.some((e) => e.field === 'logo') ? ' logo-error' : ''}">
  </div>
  ${textInput({ id: 'alt_en', label: t('settings.branding.altEn'), hint: t('settings.branding.altHint'), value: v.altEn ?? s.logo?.altEn ?? '', errors: v.errors })}
  ${textInput({ id: 'alt_fr', label: t('settings.branding.altFr'), hint: t('settings.branding.altHint'), value: v.altFr ?? s.logo?.altFr ?? '', errors: v.errors })}
  <button type="submit">${t('settings.save')}</button>
</form>`,
      v.errors,
      status,
    );
  };

  app.get<{ Params: { serviceId: string } }>(
    '/services/:serviceId/settings/branding',
    { preHandler: manager },
    async (request, reply) => brandingPage(reply, request.ui, request.service, {}),
  );

  app.post<{ Params: { serviceId: string }; Body: MultipartForm | Form }>(
    '/services/:serviceId/settings/branding',
    { preHandler: manager },
    async (request, reply) => {
      const { ui, service } = request;
      const body = (request.body ?? {}) as MultipartForm;
      const branding = (['none', 'gc', 'logo'] as const).find((b) => b === body.branding);
      const altEn = text(body.alt_en);
      const altFr = text(body.alt_fr);
      if (!branding)
        return brandingPage(
          reply,
          ui,
          service,
          { altEn, altFr, errors: [{ field: 'branding', message: ui.t('settings.branding.error.choose') }] },
          400,
        );
      const file = typeof body.logo === 'object' ? body.logo : undefined;
      try {
        await setBranding(db, service.id, {
          branding: branding as EmailBranding,
          logo: file ? { bytes: file.bytes } : null,
          altEn,
          altFr,
        });
      } catch (err) {
        if (!(err instanceof BrandingError)) throw err;
        const field = (code: string) =>
          code.startsWith('logo') ? 'logo' : code === 'alt-fr-missing' ? 'alt_fr' : 'alt_en';
        const errors = err.codes.map((code) => ({
          field: field(code),
          message: ui.t(`settings.branding.error.${code}`, { size: ui.formatNumber(LOGO_MAX_BYTES / 1024) }),
        }));
        return brandingPage(reply, ui, service, { branding, altEn, altFr, errors }, 400);
      }
      return done(reply, service, 'branding');
    },
  );

  // Any member may see the logo (it appears in their emails).
  app.get<{ Params: { serviceId: string } }>(
    '/services/:serviceId/settings/branding/logo',
    { preHandler: requireService(db) },
    async (request, reply) => {
      const logo = await emailLogo(db, request.service.id);
      if (!logo) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
      return reply.header('cache-control', 'private, no-cache').type(logo.contentType).send(Buffer.from(logo.bytes));
    },
  );

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
        if (!(err instanceof ServiceError)) throw err;
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
