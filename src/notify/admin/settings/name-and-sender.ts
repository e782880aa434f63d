import type { FastifyInstance, FastifyReply } from 'fastify';
import { html } from '../../../platform/ui/html.ts';
import { csrfField, textInput, type FieldError } from '../../../platform/ui/layout.ts';
import type { UiContext } from '../../../platform/ui/context.ts';
import type { ServiceContext } from '../../../platform/ui/service-context.ts';
import type { NotifyAdminDeps } from '../admin-deps.ts';
import { renameService, ServiceError } from '../../../platform/services/services.ts';
import { setEmailSender } from '../../settings/senders.ts';
import { SettingsError } from '../../settings/settings-error.ts';
import { settingsScope, text, type Form } from './scope.ts';

export async function nameAndSenderRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  const { db, config, manager, path, done, page, load } = settingsScope(deps);

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
        if (!(err instanceof SettingsError)) throw err;
        const field = err.code === 'sender-name-too-long' ? 'sender_name' : 'email_sender';
        return senderPage(reply, ui, service, v, [{ field, message: ui.t(`services.error.${err.code}`) }], 400);
      }
      return done(reply, service, 'email-sender');
    },
  );
}
