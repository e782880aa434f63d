/**
 * Checks on the accounts pages' forms: a new account's name, email and password, a new password's rules, and the
 * password asked again before a change.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FieldError } from '../../ui/layout.ts';
import { SESSION_COOKIE, type UiContext } from '../../ui/context.ts';
import { looksLikeEmail, passwordProblem, type Accounts } from '../../accounts/accounts.ts';
import { signInPage } from './views.ts';
export interface NewAccountForm {
  name: string;
  email: string;
  password: string;
  errors: FieldError[];
}

/** A new account's fields as typed (trimmed) and what is wrong with them: the sign-up and first-run forms. */
export function newAccountForm(ui: UiContext, body: Record<string, string | undefined>): NewAccountForm {
  const name = (body.name ?? '').trim();
  const email = (body.email ?? '').trim();
  const password = body.password ?? '';
  const errors: FieldError[] = [];
  if (!name) errors.push({ field: 'name', message: ui.t('field.name.missing') });
  if (!email) errors.push({ field: 'email', message: ui.t('field.email.missing') });
  else if (!looksLikeEmail(email)) errors.push({ field: 'email', message: ui.t('field.email.invalid') });
  errors.push(...passwordErrors(ui, password, 'password'));
  return { name, email, password, errors };
}

/** Field errors for a new password, in the words of the page's language. */
export function passwordErrors(ui: UiContext, password: string, field: string): FieldError[] {
  if (!password) return [{ field, message: ui.t('field.password.missing') }];
  const problem = passwordProblem(password);
  if (problem === 'too-short') return [{ field, message: ui.t('field.password.tooShort') }];
  if (problem === 'too-long') return [{ field, message: ui.t('field.password.tooLong') }];
  if (problem === 'common') return [{ field, message: ui.t('field.password.common') }];
  return [];
}

/**
 * The password again before the way someone signs in changes: a session left open is not enough to turn off
 * their second step. A wrong one counts towards the lockout like any other; when it locks the account, its
 * sessions end and the sign-in page says until when. Null when the password is right.
 */
export async function confirmPassword(
  accounts: Accounts,
  request: FastifyRequest,
  reply: FastifyReply,
  password: string,
): Promise<FieldError[] | FastifyReply | null> {
  const { ui } = request;
  if (!password) return [{ field: 'password', message: ui.t('field.password.missing') }];
  const outcome = await accounts.checkPassword(ui.account!.email, password, request.ip);
  if (outcome.kind === 'ok') return null;
  if (outcome.kind === 'locked') {
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return signInPage(
      reply,
      { ...ui, session: null, account: null },
      {
        email: ui.account!.email,
        errors: [{ field: 'email', message: ui.t('signIn.locked', { time: ui.formatDateTime(outcome.until) }) }],
      },
      400,
    );
  }
  return [{ field: 'password', message: ui.t('field.password.wrong') }];
}

// ---- views ---------------------------------------------------------------------------------------------------
