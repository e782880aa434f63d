/**
 * The guards routes put in front of themselves: signed in, or a platform admin. Apart from context.ts so that the
 * context needs no page and the layout can import the context without a cycle.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { forbiddenPage } from './layout.ts';

/** preHandler: a signed-in account, else the sign-in page (coming back here afterwards for a GET). */
export async function requireUser(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (request.ui.account) return;
  const next = request.method === 'GET' ? `?next=${encodeURIComponent(request.url)}` : '';
  return reply.redirect(`/sign-in${next}`, 303);
}

/** preHandler: a signed-in platform admin; others get a 403 page. */
export async function requirePlatformAdmin(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (!request.ui.account) return requireUser(request, reply);
  if (request.ui.account.platformAdmin) return;
  return reply
    .code(403)
    .type('text/html; charset=utf-8')
    .send(String(forbiddenPage(request.ui)));
}
