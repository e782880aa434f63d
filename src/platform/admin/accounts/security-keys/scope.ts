/** What every security-key route shares: the site as the browser sees it, request metadata, the too-many page. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { html } from '../../../ui/html.ts';
import { sendPage } from '../../../ui/layout.ts';
import type { AdminDeps } from '../../../ui/admin-deps.ts';
import type { RelyingParty } from '../../../accounts/security-keys.ts';

export type Form = Record<string, string | undefined>;

export function securityKeyScope(deps: AdminDeps) {
  const { accounts } = deps;
  const db = deps.services.database.db;
  const meta = (request: FastifyRequest) => ({ ip: request.ip, userAgent: request.headers['user-agent'] ?? null });

  /** The site as the browser sees it: the configured public URL. */
  function relyingParty(): RelyingParty {
    const origin = new URL(deps.siteRoot());
    return { id: origin.hostname, origin: origin.origin, name: 'Envoi' };
  }

  const tooMany = (request: FastifyRequest, reply: FastifyReply) => {
    const { t } = request.ui;
    return sendPage(
      reply,
      request.ui,
      { title: t('tooMany.title'), body: html`<h1>${t('tooMany.title')}</h1><p>${t('tooMany.body')}</p>` },
      429,
    );
  };
  return { accounts, db, meta, relyingParty, tooMany };
}
