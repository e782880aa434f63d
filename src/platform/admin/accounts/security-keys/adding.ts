/** Adding a security key: its name and one's password, then the browser's ceremony, whose answer is posted back. */
import type { FastifyInstance } from 'fastify';
import { requireUser } from '../../../ui/guards.ts';
import type { AdminDeps } from '../../../ui/admin-deps.ts';
import { confirmPassword } from '../forms.ts';
import {
  beginRegistration,
  finishRegistration,
  listSecurityKeys,
  takeChallenge,
} from '../../../accounts/security-keys.ts';
import { browserOutcome, type CeremonyError, keyNameErrors } from './forms.ts';
import { type Form, securityKeyScope } from './scope.ts';
import { newKeyPage, registrationPage } from './views.ts';

export async function addKeyRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const { accounts, db, relyingParty, tooMany } = securityKeyScope(deps);

  app.get('/account/security-keys/new', { preHandler: requireUser }, async (request, reply) =>
    newKeyPage(reply, request.ui, {}),
  );

  app.post<{ Body: Form }>('/account/security-keys/new', { preHandler: requireUser }, async (request, reply) => {
    const { ui } = request;
    const account = ui.account!;
    if (!deps.attempts.allow(`ip:${request.ip}`)) return tooMany(request, reply);
    const name = (request.body.name ?? '').trim();
    const errors = keyNameErrors(ui, name, await listSecurityKeys(db, account.id));
    const password = await confirmPassword(accounts, request, reply, request.body.password ?? '');
    if (password && !Array.isArray(password)) return password;
    if (password) errors.push(...password);
    if (errors.length) return newKeyPage(reply, ui, { name, errors }, 400);
    return registrationPage(
      reply,
      ui,
      await beginRegistration(db, { account, sessionId: ui.session!.id, name, rp: relyingParty() }),
      name,
    );
  });

  app.post<{ Body: Form }>('/account/security-keys/register', { preHandler: requireUser }, async (request, reply) => {
    const { ui } = request;
    const account = ui.account!;
    const sessionId = ui.session!.id;
    const rp = relyingParty();
    const challengeId = request.body.challenge ?? '';
    const expired = () =>
      newKeyPage(
        reply,
        ui,
        { errors: [{ field: 'password', message: ui.t('securityKeys.error.expiredRegister') }] },
        400,
      );
    const again = async (name: string, error: CeremonyError) =>
      registrationPage(reply, ui, await beginRegistration(db, { account, sessionId, name, rp }), name, error, 400);

    const outcome = browserOutcome(request.body.outcome);
    if (outcome) {
      const taken = await takeChallenge(db, { account, sessionId, challengeId, purpose: 'register' });
      return taken ? again(taken.keyName ?? '', outcome) : expired();
    }
    const result = await finishRegistration(db, {
      account,
      sessionId,
      challengeId,
      response: request.body.response ?? '',
      rp,
      ip: request.ip,
    });
    if (result.kind === 'expired') return expired();
    if (result.kind !== 'added') return again(result.name, result.kind);
    if (account.authType !== 'security_key')
      await accounts.setAuthType(account.id, 'security_key', account.id, request.ip);
    return reply.redirect('/account/security-keys?notice=added', 303);
  });
}
