/**
 * The link of an invitation to a team (`/invitation/:token`): join after signing in, or create an account there.
 */
import type { FastifyInstance } from 'fastify';
import type { FieldError } from '../../ui/layout.ts';
import { requireUser } from '../../ui/guards.ts';
import type { AdminDeps } from '../../ui/admin-deps.ts';
import { passwordErrors } from '../accounts/forms.ts';
import {
  acceptInvitation,
  accountExists,
  invitationByToken,
  signUpFromInvitation,
  TeamError,
} from '../../services/team.ts';
import { expiredInvitationPage, invitationPage } from './views.ts';
type Form = Record<string, string | undefined>;

export async function invitationLinkRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const db = deps.services.database.db;

  app.get<{ Params: { token: string } }>('/invitation/:token', async (request, reply) => {
    const { ui } = request;
    const invitation = await invitationByToken(db, request.params.token);
    if (!invitation) return expiredInvitationPage(reply, ui);
    return invitationPage(reply, ui, invitation, request.params.token, {
      hasAccount: await accountExists(db, invitation.email),
    });
  });

  app.post<{ Params: { token: string } }>(
    '/invitation/:token/accept',
    { preHandler: requireUser },
    async (request, reply) => {
      const { ui } = request;
      const account = ui.account!;
      try {
        const invitation = await acceptInvitation(db, {
          token: request.params.token,
          userId: account.id,
          userEmail: account.email,
          ip: request.ip,
        });
        deps.services.directory.invalidate(invitation.serviceId);
        return reply.redirect(`/services/${invitation.serviceId}/team?done=joined`, 303);
      } catch (err) {
        if (!(err instanceof TeamError)) throw err;
        if (err.code === 'invitation-invalid') return expiredInvitationPage(reply, ui);
        const invitation = (await invitationByToken(db, request.params.token))!;
        return invitationPage(reply, ui, invitation, request.params.token, { hasAccount: true }, 400);
      }
    },
  );

  app.post<{ Params: { token: string }; Body: Form }>('/invitation/:token/sign-up', async (request, reply) => {
    const { ui } = request;
    if (!deps.attempts.allow(`ip:${request.ip}`))
      return reply.redirect(`/invitation/${encodeURIComponent(request.params.token)}`, 303);
    const invitation = await invitationByToken(db, request.params.token);
    if (!invitation) return expiredInvitationPage(reply, ui);
    const name = (request.body.name ?? '').trim();
    const password = request.body.password ?? '';
    const errors: FieldError[] = [];
    if (!name) errors.push({ field: 'name', message: ui.t('field.name.missing') });
    errors.push(...passwordErrors(ui, password, 'password'));
    const again = (errs: FieldError[]) =>
      invitationPage(reply, ui, invitation, request.params.token, { hasAccount: false, name, errors: errs }, 400);
    if (errors.length) return again(errors);
    try {
      const joined = await signUpFromInvitation(db, {
        token: request.params.token,
        name,
        password,
        language: ui.locale,
        ip: request.ip,
      });
      deps.services.directory.invalidate(joined.invitation.serviceId);
    } catch (err) {
      if (!(err instanceof TeamError)) throw err;
      if (err.code === 'invitation-invalid') return expiredInvitationPage(reply, ui);
      if (err.code === 'account-exists')
        return invitationPage(reply, ui, invitation, request.params.token, { hasAccount: true }, 400);
      return again(passwordErrors(ui, password, 'password'));
    }
    // Signing in as usual (password, then a code) brings them to the service.
    return reply.redirect(
      `/sign-in?notice=account-created&next=${encodeURIComponent(`/services/${invitation.serviceId}`)}`,
      303,
    );
  });
}
