/**
 * `/services/:serviceId/outbox`: while a sink provider stands in for a real one (a laptop, a demo, tests), what
 * the service "sent", newest first: each email rendered as its recipient would see it, in a sandboxed frame
 * served with its own Content-Security-Policy (no script, nothing but images and inline styles), and each text
 * message as a phone shows it. Only the service's own rows are read.
 */
import type { FastifyInstance } from 'fastify';
import { html } from '../../../platform/ui/html.ts';
import { notFoundPage } from '../../../platform/ui/layout.ts';
import { requireService } from '../../../platform/ui/service-context.ts';
import { sendServicePage, servicePath } from '../../../platform/ui/service-layout.ts';
import type { NotifyAdminDeps } from '../admin-deps.ts';
import type { Config } from '../../../platform/config.ts';
import { loadBranding, showHeaderImage } from '../../settings/email-branding.ts';
import { outboxEmail, outboxPage } from '../../delivery/outbox.ts';
import { emailEntry, textEntry } from './views.ts';
const PAGE_SIZE = 20;

/** The email frame may show images and the email's own styles, and be framed by Envoi's pages only. */
export const EMAIL_FRAME_POLICY =
  "default-src 'none'; img-src 'self' https: data:; style-src 'unsafe-inline'; font-src https: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

export function sinkInUse(config: Pick<Config, 'emailProviders' | 'smsProviders'>): boolean {
  return config.emailProviders.includes('sink') || config.smsProviders.includes('sink');
}

export async function outboxRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  const db = deps.services.database.db;
  const enabled = sinkInUse(deps.services.config);
  const guard = requireService(db, 'view_activity');

  app.get<{ Params: { serviceId: string }; Querystring: { before?: string } }>(
    '/services/:serviceId/outbox',
    { preHandler: guard },
    async (request, reply) => {
      const { ui, service } = request;
      if (!enabled)
        return reply
          .code(404)
          .type('text/html; charset=utf-8')
          .send(String(notFoundPage(ui)));
      const before = /^\d{1,15}$/.test(request.query.before ?? '') ? Number(request.query.before) : null;
      const { rows, next } = await outboxPage(db, service.id, { before, size: PAGE_SIZE });
      const { t } = ui;
      const body = html`<link rel="stylesheet" href="/assets/1/insights.css">
<h1>${t('outbox.title')}</h1>
<p>${t('outbox.intro')}</p>
${rows.length === 0 ? html`<p>${t('outbox.empty')}</p>` : html`<ol class="outbox">${rows.map((r) => html`<li>${r.channel === 'email' ? emailEntry(ui, service, r) : textEntry(ui, service, r)}</li>`)}</ol>`}
<nav aria-label="${t('outbox.pages')}"><ul class="pager">
  ${before !== null && html`<li><a href="${servicePath(service, '/outbox')}">${t('outbox.newest')}</a></li>`}
  ${next !== null && html`<li><a href="${servicePath(service, `/outbox?before=${next}`)}">${t('outbox.older')}</a></li>`}
</ul></nav>`;
      return sendServicePage(reply, ui, service, 'outbox', { title: t('outbox.title'), body });
    },
  );

  // The rendered email itself, for the frame. Its own policy replaces the pages' (set by the admin plugin's
  // onSend hook, which runs before this route's own).
  app.get<{ Params: { serviceId: string; id: string } }>(
    '/services/:serviceId/outbox/:id/email',
    {
      preHandler: guard,
      onSend: async (_request, reply, payload) => {
        if (reply.statusCode === 200) {
          reply.header('content-security-policy', EMAIL_FRAME_POLICY);
          reply.header('x-frame-options', 'SAMEORIGIN');
        }
        return payload;
      },
    },
    async (request, reply) => {
      const { ui, service } = request;
      const id = /^\d{1,15}$/.test(request.params.id) ? Number(request.params.id) : null;
      const row = enabled && id !== null ? await outboxEmail(db, service.id, id) : undefined;
      if (!row)
        return reply
          .code(404)
          .type('text/html; charset=utf-8')
          .send(String(notFoundPage(ui)));
      let page =
        row.html ??
        String(
          html`<!doctype html><html><head><meta charset="utf-8"><title>${ui.t('outbox.emailFrame')}</title></head><body><pre>${row.body}</pre></body></html>`,
        );
      // The sink keeps no inline parts: the header image the email refers to is shown from the service's branding.
      if (page.includes('src="cid:')) page = showHeaderImage(page, await loadBranding(db, service.id));
      return reply.type('text/html; charset=utf-8').send(page);
    },
  );
}
