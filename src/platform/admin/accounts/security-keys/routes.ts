/**
 * Security keys (WebAuthn) in the web UI: the list of one's keys, adding one (name and password, then the browser's
 * ceremony), removing one (password again), and the second step of signing in with a key. The ceremony itself
 * needs JavaScript (assets/security-key.js, no inline script): the page holds the options and the words, the script
 * asks the browser and posts its answer, or why there is none, in an ordinary form. Without JavaScript the page
 * says so and names the way out.
 */
import type { FastifyInstance } from 'fastify';
import { requireUser } from '../../../ui/guards.ts';
import type { AdminDeps } from '../../../ui/admin-deps.ts';
import { confirmPassword } from '../forms.ts';
import { findSecurityKey, listSecurityKeys, removeSecurityKey } from '../../../accounts/security-keys.ts';
import { type Form, securityKeyScope } from './scope.ts';
import { keysPage, removePage } from './views.ts';
import { addKeyRoutes } from './adding.ts';
import { signInKeyRoutes } from './sign-in.ts';

export async function securityKeyRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const { accounts, db, tooMany } = securityKeyScope(deps);

  app.get<{ Querystring: { notice?: string } }>(
    '/account/security-keys',
    { preHandler: requireUser },
    async (request, reply) => {
      const { ui } = request;
      const keys = await listSecurityKeys(db, ui.account!.id);
      if (keys.length === 0) return reply.redirect('/account/security-keys/new', 303);
      const shown = ['added', 'removed'].find((n) => n === request.query.notice);
      return keysPage(reply, ui, keys, shown);
    },
  );

  await addKeyRoutes(app, deps);

  app.get<{ Params: { id: string } }>(
    '/account/security-keys/:id/remove',
    { preHandler: requireUser },
    async (request, reply) => {
      const { ui } = request;
      const key = await findSecurityKey(db, ui.account!.id, request.params.id);
      if (!key) return reply.redirect('/account/security-keys', 303);
      const only = (await listSecurityKeys(db, ui.account!.id)).length === 1;
      return removePage(reply, ui, key, { only });
    },
  );

  app.post<{ Params: { id: string }; Body: Form }>(
    '/account/security-keys/:id/remove',
    { preHandler: requireUser },
    async (request, reply) => {
      const { ui } = request;
      const account = ui.account!;
      if (!deps.attempts.allow(`ip:${request.ip}`)) return tooMany(request, reply);
      const key = await findSecurityKey(db, account.id, request.params.id);
      if (!key) return reply.redirect('/account/security-keys', 303);
      const password = await confirmPassword(accounts, request, reply, request.body.password ?? '');
      if (password && !Array.isArray(password)) return password;
      if (password) return removePage(reply, ui, key, { errors: password }, 400);
      const result = await removeSecurityKey(db, {
        userId: account.id,
        keyId: key.id,
        actorId: account.id,
        ip: request.ip,
      });
      if (result.kind === 'last') return removePage(reply, ui, key, { only: true }, 400);
      return reply.redirect(`/account/security-keys${result.kind === 'removed' ? '?notice=removed' : ''}`, 303);
    },
  );

  await signInKeyRoutes(app, deps);
}
