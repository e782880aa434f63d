/**
 * The web UI as one Fastify plugin, registered by the app at `/`. Static assets sit outside the page hooks; every
 * page route gets `request.ui` (language, session, CSRF token), a CSRF check on every POST, security headers,
 * and HTML error pages. Each area is a plugin given the UI's deps (the platform's AdminDeps; Notify's areas get
 * NotifyAdminDeps, which adds Notify's services), built by app-services.ts.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import { buildUiContext, csrfMatches, CSRF_FIELD, type UiContext } from './platform/ui/context.ts';
import { html } from './platform/ui/html.ts';
import { notFoundPage, sendPage } from './platform/ui/layout.ts';
import { chooseLocale, translator } from './platform/ui/i18n/index.ts';
import { assetRoutes } from './platform/ui/assets.ts';
import { isDatabaseUnavailable } from './platform/database/unavailable.ts';
import { accountRoutes } from './platform/admin/accounts/routes.ts';
import { platformAdminRoutes } from './platform/admin/platform-admin/routes.ts';
import { securityKeyRoutes } from './platform/admin/accounts/security-keys/routes.ts';
import { dashboardRoutes } from './notify/admin/dashboard/routes.ts';
import { activityRoutes } from './notify/admin/activity/routes.ts';
import { apiKeyRoutes } from './notify/admin/api-keys/routes.ts';
import { suppressionRoutes } from './notify/admin/suppressions/routes.ts';
import { outboxRoutes, sinkInUse } from './notify/admin/outbox/routes.ts';
import { homeRoutes } from './platform/admin/home/routes.ts';
import { templateRoutes } from './notify/admin/templates/routes.ts';
import { sendRoutes } from './notify/admin/send/routes.ts';
import { messageRoutes } from './notify/admin/messages/routes.ts';
import { servicesRoutes } from './platform/admin/services/routes.ts';
import { teamRoutes } from './platform/admin/team/routes.ts';
import { settingsRoutes } from './notify/admin/settings/routes.ts';
import { platformServicesRoutes } from './notify/admin/platform-admin/routes.ts';
import { newServiceRoutes } from './notify/admin/services/routes.ts';
import { guestListRoutes } from './notify/admin/guest-list/routes.ts';
import type { NotifyAdminDeps } from './notify/admin/admin-deps.ts';

export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export async function adminRoutes(app: FastifyInstance, opts: { deps: NotifyAdminDeps }): Promise<void> {
  const { deps } = opts;
  const { accounts } = deps;
  const { config, secrets } = deps.services;

  await app.register(cookie);
  await app.register(assetRoutes);
  await app.register(async (pages) => {
    await pages.register(formbody, { bodyLimit: 1024 * 1024 });
    pages.decorateRequest('ui', null as unknown as UiContext);
    pages.addHook('onRequest', async (request, reply) => {
      request.ui = await buildUiContext(request, reply, {
        accounts,
        secrets,
        publicUrl: config.publicUrl,
        showOutbox: sinkInUse(config),
      });
    });
    pages.addHook('preHandler', async (request, reply) => {
      if (request.method !== 'POST') return;
      const body = request.body as Record<string, unknown> | undefined;
      const given = request.headers['x-csrf-token'] ?? body?.[CSRF_FIELD];
      if (!csrfMatches(request.ui.csrfToken, given)) {
        const { t } = request.ui;
        return sendPage(
          reply,
          request.ui,
          {
            title: t('csrf.title'),
            body: html`<h1>${t('csrf.title')}</h1><p>${t('csrf.body')}</p><p><a href="/">${t('notFound.home')}</a></p>`,
          },
          403,
        );
      }
    });
    pages.addHook('onSend', async (_request, reply, payload) => {
      securityHeaders(reply);
      return payload;
    });
    pages.setErrorHandler((error: FastifyError, request, reply) => {
      const unavailable = isDatabaseUnavailable(error);
      const clientError = error.statusCode && error.statusCode >= 400 && error.statusCode < 500;
      const status = clientError ? error.statusCode! : unavailable ? 503 : 500;
      if (status === 500) request.log.error({ err: error }, 'unhandled error in the web UI');
      // The database is restarting or failing over: the same apology, and when to try again.
      if (status === 503) reply.header('retry-after', '5');
      const ui = request.ui ?? fallbackUi(request);
      const key = status >= 500 ? 'serverError' : 'badRequest';
      return sendPage(
        reply,
        ui,
        { title: ui.t(`${key}.title`), body: html`<h1>${ui.t(`${key}.title`)}</h1><p>${ui.t(`${key}.body`)}</p>` },
        status,
      );
    });
    await pages.register(homeRoutes, deps);
    await pages.register(accountRoutes, deps);
    await pages.register(securityKeyRoutes, deps);
    await pages.register(platformAdminRoutes, deps);
    for (const area of [dashboardRoutes, activityRoutes, suppressionRoutes, apiKeyRoutes, outboxRoutes])
      await pages.register(area, deps);
    for (const area of [servicesRoutes, newServiceRoutes, teamRoutes, guestListRoutes, settingsRoutes])
      await pages.register(area, deps);
    await pages.register(platformServicesRoutes, deps);
    for (const area of [templateRoutes, sendRoutes, messageRoutes]) await pages.register(area, deps);
  });
}

function securityHeaders(reply: FastifyReply): void {
  reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
  reply.header('x-frame-options', 'DENY');
  reply.header('referrer-policy', 'same-origin');
  reply.header('x-content-type-options', 'nosniff');
  reply.header('cross-origin-opener-policy', 'same-origin');
  if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
}

/** For errors raised before the UI context was built. */
function fallbackUi(request: FastifyRequest): UiContext {
  const locale = chooseLocale(undefined, request.headers['accept-language']);
  return {
    ...translator(locale),
    session: null,
    account: null,
    csrfToken: '',
    path: '/',
    secure: false,
    showOutbox: false,
  };
}

/**
 * The page for unknown URLs when a browser asks (the app's not-found handler calls it for requests that accept
 * HTML outside the API).
 */
export function renderNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const ui = fallbackUi(request);
  const cookieLang = /(?:^|;\s*)lang=(en|fr)/.exec(request.headers.cookie ?? '')?.[1];
  const localised = cookieLang ? { ...ui, ...translator(cookieLang as 'en' | 'fr') } : ui;
  securityHeaders(reply);
  return reply
    .code(404)
    .type('text/html; charset=utf-8')
    .send(String(notFoundPage(localised)));
}
