/**
 * `/services/:serviceId/api`: a service's API integration. Its keys (create one, whose full string is shown once
 * and never again; revoke one after a confirmation), and its last API requests with failures marked. Creating
 * and revoking are audited, and the service directory forgets its cached keys at once.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { html, type Html } from '../../../platform/ui/html.ts';
import type { UiContext } from '../../../platform/ui/context.ts';
import { csrfField, notice, type FieldError } from '../../../platform/ui/layout.ts';
import { requireService, type ServiceContext } from '../../../platform/ui/service-context.ts';
import { sendServicePage, servicePath } from '../../../platform/ui/service-layout.ts';
import type { NotifyAdminDeps } from '../admin-deps.ts';
import { recordAudit } from '../../../platform/audit.ts';
import {
  apiKeyNameTaken,
  findApiKey,
  fullApiKey,
  insertApiKey,
  KEY_NAME_MAX,
  KEY_TYPES,
  listApiKeys,
  listApiRequests,
  revokeApiKey,
  type ApiKeyView,
} from '../../settings/api-keys.ts';
import { canonicalUuid } from '../../../platform/ids.ts';
import { createForm, keysTable, requestsTable } from './views.ts';
const REQUESTS_SHOWN = 50;

type Params = { serviceId: string };
type KeyParams = { serviceId: string; keyId: string };

export async function apiKeyRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  await apiPageRoutes(app, deps);
  await createKeyRoutes(app, deps);
  await revokeKeyRoutes(app, deps);
}

/** What the API pages share: their guard, their page, and the key of the URL. */
function apiKeyScope(deps: NotifyAdminDeps) {
  const { database, secrets, directory } = deps.services;
  const db = database.db;
  const guard = requireService(db, 'manage_api_keys');

  const page = (
    reply: FastifyReply,
    ui: UiContext,
    service: ServiceContext,
    title: string,
    body: Html,
    errors?: FieldError[],
    status = 200,
  ) => sendServicePage(reply, ui, service, 'api', { title, body, errors }, status);

  async function keyOf(params: KeyParams, service: ServiceContext): Promise<ApiKeyView | null> {
    const keyId = canonicalUuid(params.keyId);
    return keyId ? findApiKey(db, service.id, keyId) : null;
  }

  return { db, secrets, directory, guard, page, keyOf };
}

/** The API integration page: the keys, and the last requests. */
async function apiPageRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  const { db, guard, page } = apiKeyScope(deps);

  app.get<{ Params: Params; Querystring: { notice?: string; failures?: string } }>(
    '/services/:serviceId/api',
    { preHandler: guard },
    async (request, reply) => {
      const { ui, service } = request;
      const { t } = ui;
      const failuresOnly = request.query.failures === '1';
      const [keys, requests] = await Promise.all([
        listApiKeys(db, service.id),
        listApiRequests(db, service.id, { limit: REQUESTS_SHOWN, failuresOnly }),
      ]);
      const revoked = request.query.notice === 'revoked';
      const body = html`<link rel="stylesheet" href="/assets/1/insights.css">
${revoked && notice(html`<p>${t('api.notice.revoked')}</p>`, 'success')}
<h1>${t('api.title')}</h1>
<p>${t('api.intro')}</p>
<dl class="summary-list"><dt>${t('api.serviceId')}</dt><dd><code>${service.id}</code></dd></dl>
<h2>${t('api.keys.title')}</h2>
<p><a class="button" href="${servicePath(service, '/api/keys/new')}">${t('api.keys.create')}</a></p>
${keys.length === 0 ? html`<p>${t('api.keys.none')}</p>` : keysTable(ui, service, keys)}
<h2 id="requests-title">${t('api.requests.title')}</h2>
<p>${t('api.requests.intro', { count: REQUESTS_SHOWN })}</p>
<p>${
        failuresOnly
          ? html`<a href="${servicePath(service, '/api')}">${t('api.requests.showAll')}</a>`
          : html`<a href="${servicePath(service, '/api?failures=1')}">${t('api.requests.showFailures')}</a>`
      }</p>
${requests.length === 0 ? html`<p>${failuresOnly ? t('api.requests.noFailures') : t('api.requests.none')}</p>` : requestsTable(ui, requests, failuresOnly)}`;
      return page(reply, ui, service, t('api.title'), body);
    },
  );
}

/** Creating a key, whose full string is shown once. */
async function createKeyRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  const { db, secrets, directory, guard, page } = apiKeyScope(deps);

  app.get<{ Params: Params }>('/services/:serviceId/api/keys/new', { preHandler: guard }, async (request, reply) => {
    const { ui, service } = request;
    return page(reply, ui, service, ui.t('api.create.title'), createForm(ui, service, {}));
  });

  app.post<{ Params: Params; Body: Record<string, string | undefined> }>(
    '/services/:serviceId/api/keys',
    { preHandler: guard },
    async (request, reply) => {
      const { ui, service } = request;
      const { t } = ui;
      const name = (request.body.name ?? '').trim();
      const keyType = KEY_TYPES.find((k) => k === request.body.key_type);
      const errors: FieldError[] = [];
      if (!name) errors.push({ field: 'name', message: t('api.create.name.missing') });
      else if (name.length > KEY_NAME_MAX)
        errors.push({ field: 'name', message: t('api.create.name.tooLong', { max: KEY_NAME_MAX }) });
      else if (await apiKeyNameTaken(db, service.id, name))
        errors.push({ field: 'name', message: t('api.create.name.taken') });
      if (!keyType) errors.push({ field: 'key_type', message: t('api.create.type.missing') });
      const again = (errs: FieldError[]) =>
        page(
          reply,
          ui,
          service,
          t('api.create.title'),
          createForm(ui, service, { name, keyType, errors: errs }),
          errs,
          400,
        );
      if (errors.length) return again(errors);
      let created: { id: string; secret: string };
      try {
        created = await insertApiKey(db, secrets, { serviceId: service.id, name, keyType: keyType! });
      } catch (err) {
        // Two people choosing the same name at the same moment: the unique index decides.
        if ((err as { code?: string }).code === '23505')
          return again([{ field: 'name', message: t('api.create.name.taken') }]);
        throw err;
      }
      directory.invalidate(service.id);
      await recordAudit(db, {
        event: 'api-key-created',
        actorId: ui.account!.id,
        userId: null,
        ip: request.ip,
        details: { serviceId: service.id, serviceName: service.name, keyId: created.id, keyName: name, keyType },
      });
      const key = fullApiKey(name, service.id, created.secret);
      // Shown on this response only (never stored in the clear, never cached: the pages are no-store).
      const body = html`<h1>${t('api.created.title')}</h1>
${notice(html`<p>${t('api.created.once')}</p>`, 'warning')}
<h2 id="key-label">${t('api.created.keyLabel', { name })}</h2>
<p class="secret" id="api-key">${key}</p>
<p class="hint">${t('api.created.copyHint')}</p>
<p><a class="button" href="${servicePath(service, '/api')}">${t('api.created.back')}</a></p>`;
      return page(reply, ui, service, t('api.created.title'), body);
    },
  );
}

/** Revoking a key, after a confirmation. */
async function revokeKeyRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  const { db, directory, guard, page, keyOf } = apiKeyScope(deps);

  app.get<{ Params: KeyParams }>(
    '/services/:serviceId/api/keys/:keyId/revoke',
    { preHandler: guard },
    async (request, reply) => {
      const { ui, service } = request;
      const { t } = ui;
      const key = await keyOf(request.params, service);
      if (!key || key.revokedAt) return reply.redirect(servicePath(service, '/api'), 303);
      const body = html`<h1>${t('api.revoke.title', { name: key.name })}</h1>
<p>${t('api.revoke.warning')}</p>
<form method="post" action="${servicePath(service, `/api/keys/${key.id}/revoke`)}" novalidate>
  ${csrfField(ui)}
  <div class="actions">
    <button type="submit" class="danger">${t('api.revoke.confirm')}</button>
    <a href="${servicePath(service, '/api')}">${t('api.revoke.cancel')}</a>
  </div>
</form>`;
      return page(reply, ui, service, t('api.revoke.title', { name: key.name }), body);
    },
  );

  app.post<{ Params: KeyParams }>(
    '/services/:serviceId/api/keys/:keyId/revoke',
    { preHandler: guard },
    async (request, reply) => {
      const { ui, service } = request;
      const key = await keyOf(request.params, service);
      if (key && (await revokeApiKey(db, service.id, key.id))) {
        directory.invalidate(service.id);
        await recordAudit(db, {
          event: 'api-key-revoked',
          actorId: ui.account!.id,
          userId: null,
          ip: request.ip,
          details: {
            serviceId: service.id,
            serviceName: service.name,
            keyId: key.id,
            keyName: key.name,
            keyType: key.keyType,
          },
        });
      }
      return reply.redirect(servicePath(service, '/api?notice=revoked'), 303);
    },
  );
}
