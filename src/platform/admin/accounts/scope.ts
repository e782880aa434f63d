/** What every accounts route shares: request metadata, the too-many-attempts page, and sending a sign-in code. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { html } from '../../ui/html.ts';
import { sendPage } from '../../ui/layout.ts';
import type { AdminDeps } from '../../ui/admin-deps.ts';
import type { Account } from '../../accounts/accounts.ts';
import type { AuthType } from '../../database/schema.ts';

export type Form = Record<string, string | undefined>;

export const NOTICES = [
  'account-created',
  'password-changed',
  'email-confirmed',
  'signed-out',
  'signed-out-everywhere',
  'two-step-changed',
  'session-expired',
] as const;

/** Where the second step of each method happens. */
export const SECOND_STEP_PATH: Record<AuthType, string> = {
  email: '/sign-in/code',
  sms: '/sign-in/code',
  totp: '/sign-in/app',
  security_key: '/sign-in/security-key',
};

export function accountScope(deps: AdminDeps) {
  const { accounts, messages } = deps;
  const meta = (request: FastifyRequest) => ({ ip: request.ip, userAgent: request.headers['user-agent'] ?? null });
  const tooMany = (request: FastifyRequest, reply: FastifyReply) => {
    const { t } = request.ui;
    return sendPage(
      reply,
      request.ui,
      { title: t('tooMany.title'), body: html`<h1>${t('tooMany.title')}</h1><p>${t('tooMany.body')}</p>` },
      429,
    );
  };

  async function sendCode(account: Account): Promise<void> {
    const method = account.authType === 'sms' && account.mobileNumber ? 'sms' : 'email';
    const code = await accounts.issueCode(account.id, method);
    if (method === 'sms') await messages.deliver('sign-in-code-sms', account.language, account.mobileNumber!, { code });
    else await messages.deliver('sign-in-code', account.language, account.email, { name: account.name, code });
  }
  return { accounts, messages, meta, tooMany, sendCode };
}
