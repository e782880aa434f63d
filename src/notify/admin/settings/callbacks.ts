import type { FastifyInstance, FastifyReply } from 'fastify';
import { html } from '../../../platform/ui/html.ts';
import { csrfField, textInput, type FieldError } from '../../../platform/ui/layout.ts';
import type { UiContext } from '../../../platform/ui/context.ts';
import type { ServiceContext } from '../../../platform/ui/service-context.ts';
import type { NotifyAdminDeps } from '../admin-deps.ts';
import type { CallbackType } from '../../vocabulary.ts';
import {
  CALLBACK_TYPES,
  callbackProblems,
  listCallbacks,
  removeCallback,
  setCallback,
} from '../../settings/callback-settings.ts';
import { settingsScope, text, type Form } from './scope.ts';

export async function callbackRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  const { db, config, secrets, manager, path, done, page } = settingsScope(deps);

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
}
