import { isUuid } from '../../../platform/ids.ts';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { html } from '../../../platform/ui/html.ts';
import { csrfField, textInput, type FieldError } from '../../../platform/ui/layout.ts';
import type { UiContext } from '../../../platform/ui/context.ts';
import type { ServiceContext } from '../../../platform/ui/service-context.ts';
import type { NotifyAdminDeps } from '../admin-deps.ts';
import { addSender, listSenders, makeDefaultSender, removeSender } from '../../settings/senders.ts';
import { SettingsError } from '../../settings/settings-error.ts';
import { settingsScope, text, SENDER_LISTS, type SenderList, type Form } from './scope.ts';

export async function senderListRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  const { db, config, manager, path, done, page } = settingsScope(deps);

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
          if (!(err instanceof SettingsError)) throw err;
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
        if (isUuid(request.params.id))
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
          if (isUuid(request.params.id)) await removeSender(db, table, service.id, request.params.id.toLowerCase());
        } catch (err) {
          if (!(err instanceof SettingsError)) throw err;
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
}
