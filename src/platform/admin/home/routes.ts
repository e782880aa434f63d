/**
 * `/`: the first-run page while no account exists, the sign-in page for visitors, and the signed-in home.
 * The services area replaces `homePage` with the list of the user's services.
 */
import type { FastifyInstance } from 'fastify';
import { requireUser } from '../../ui/guards.ts';
import { setLanguageCookie, safeNext } from '../../ui/context.ts';
import type { AdminDeps } from '../../ui/admin-deps.ts';
import { AccountError } from '../../accounts/accounts.ts';
import { newAccountForm } from '../accounts/forms.ts';
import { homeServices } from '../services/views.ts';
import { firstRunPage, homePage } from './views.ts';
export async function homeRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  app.get('/', async (request, reply) => {
    if (!(await deps.accounts.hasAnyAccount())) return firstRunPage(reply, request.ui, {});
    if (!request.ui.account) return reply.redirect('/sign-in', 303);
    return homePage(reply, request.ui, await homeServices(deps, request.ui));
  });

  app.post<{ Body: Record<string, string | undefined> }>('/first-run', async (request, reply) => {
    const { ui } = request;
    if (await deps.accounts.hasAnyAccount()) return reply.redirect('/sign-in', 303);
    const { name, email, password, errors } = newAccountForm(ui, request.body);
    if (errors.length) return firstRunPage(reply, ui, { name, email, errors }, 400);
    try {
      const created = await deps.accounts.createFirstAdmin({
        name,
        email,
        password,
        language: ui.locale,
        ip: request.ip,
      });
      if (!created) return reply.redirect('/sign-in', 303);
    } catch (err) {
      if (err instanceof AccountError)
        return firstRunPage(
          reply,
          ui,
          { name, email, errors: [{ field: 'password', message: ui.t('field.password.common') }] },
          400,
        );
      throw err;
    }
    return reply.redirect('/sign-in?notice=account-created', 303);
  });

  app.get<{ Querystring: { to?: string; next?: string } }>('/language', async (request, reply) => {
    const to = request.query.to === 'fr' ? 'fr' : 'en';
    setLanguageCookie(reply, request.ui, to);
    if (request.ui.account) await deps.accounts.setLanguage(request.ui.account.id, to);
    return reply.redirect(safeNext(request.query.next), 303);
  });

  app.get('/home', { preHandler: requireUser }, async (_request, reply) => reply.redirect('/', 303));
}
