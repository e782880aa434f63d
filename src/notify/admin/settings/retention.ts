import type { FastifyInstance, FastifyReply } from 'fastify';
import { html } from '../../../platform/ui/html.ts';
import { csrfField, textInput, type FieldError } from '../../../platform/ui/layout.ts';
import type { UiContext } from '../../../platform/ui/context.ts';
import type { ServiceContext } from '../../../platform/ui/service-context.ts';
import type { NotifyAdminDeps } from '../admin-deps.ts';
import { RETENTION_DAYS, setRetention } from '../../settings/service-settings.ts';
import { SettingsError } from '../../settings/settings-error.ts';
import { settingsScope, text, type Form } from './scope.ts';

export async function retentionRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  const { db, manager, path, done, page, load } = settingsScope(deps);

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
        if (!(err instanceof SettingsError)) throw err;
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
}
