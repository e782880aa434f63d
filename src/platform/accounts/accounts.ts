/**
 * Accounts of the people who use the web UI: sign-up on allowed email domains, passwords (argon2id, refused when
 * short or common), two-step verification (a code by email or text message, an authenticator app, a security
 * key), lockout after repeated failures, server-side sessions, and the single-use links sent by email.
 * No HTTP here: the admin routes call these methods and render what they answer. Email addresses, passwords,
 * sessions, links and the second step are in files of their own (email-addresses.ts, passwords.ts, sessions.ts,
 * tokens.ts, two-step.ts); the SQL is in the platform's repositories.
 */
import type { Db } from '../database/connection.ts';
import type { AuthType } from './account.ts';
import type { SecretBox } from '../secret-box.ts';
import { recordAudit, type AuditInput } from '../audit.ts';
import { deleteUserSessions, deleteSession } from '../repositories/sessions.ts';
import { deleteTotpSecret, confirmTotpSecret } from '../repositories/totp-secrets.ts';
import {
  activatePendingUser,
  anyAccountExists,
  countFailedLogin,
  createFirstPlatformAdmin,
  findAccountByEmail,
  findAccountById,
  findAccountWithPassword,
  insertUser,
  listAccounts,
  setPasswordFromLink,
  updateUser,
  userHasPassword,
} from '../repositories/users.ts';
import { deleteUserCredentials } from '../repositories/webauthn-credentials.ts';
import type { Account, Session } from './account.ts';
import type { Language } from './account-messages.ts';
import { checkNoPassword, hashPassword, passwordMatches, passwordProblem, type PasswordProblem } from './passwords.ts';
import { liveSession, startSession } from './sessions.ts';
import { emailDomainAllowed, looksLikeEmail, normaliseAccountEmail } from './email-addresses.ts';
import { consumeToken, issueToken, tokenUser, type TokenPurpose } from './tokens.ts';
import * as twoStep from './two-step.ts';

export type { Account, Session, PasswordProblem };
export { emailDomainAllowed, looksLikeEmail, passwordProblem };
export { SESSION_IDLE_MINUTES } from './sessions.ts';

/** Failed passwords and codes in a row before the account is locked. */
export const MAX_FAILED_ATTEMPTS = 10;
export const LOCK_MINUTES = 60;

export type SignInOutcome =
  | { kind: 'ok'; account: Account }
  | { kind: 'bad' }
  | { kind: 'locked'; until: Date }
  | { kind: 'unconfirmed'; account: Account };

export class AccountError extends Error {
  constructor(
    readonly code: 'email-taken' | 'domain-not-allowed' | 'password' | 'invalid',
    message: string,
    readonly problem?: PasswordProblem,
  ) {
    super(message);
    this.name = 'AccountError';
  }
}

export interface AccountsOptions {
  signupDomains: readonly string[];
  /** Issuer shown in authenticator apps. */
  issuer?: string;
  now?: () => Date;
}

export class Accounts {
  readonly #now: () => Date;

  constructor(
    readonly db: Db,
    private readonly secrets: SecretBox,
    private readonly opts: AccountsOptions,
  ) {
    this.#now = opts.now ?? (() => new Date());
  }

  audit(input: AuditInput): Promise<void> {
    return recordAudit(this.db, input);
  }

  /** While no one can sign in, the UI offers the first-run page that creates the first platform admin. */
  hasAnyAccount(): Promise<boolean> {
    return anyAccountExists(this.db);
  }

  byId(id: string): Promise<Account | null> {
    return findAccountById(this.db, id);
  }

  byEmail(email: string): Promise<Account | null> {
    return findAccountByEmail(this.db, normaliseAccountEmail(email));
  }

  list(): Promise<Account[]> {
    return listAccounts(this.db);
  }

  /** The first platform admin, from the first-run page: refused once any account exists. */
  async createFirstAdmin(input: {
    name: string;
    email: string;
    password: string;
    language: Language;
    ip: string | null;
  }): Promise<Account | null> {
    this.#checkPassword(input.password);
    const passwordHash = await hashPassword(input.password);
    return createFirstPlatformAdmin(this.db, { ...input, passwordHash, now: this.#now() });
  }

  /**
   * `envoi create-admin`: makes (or promotes) a platform admin and returns a one-time token for a link where
   * they choose their password. The operator vouches for the address.
   */
  async createAdmin(input: { name: string; email: string }): Promise<{ account: Account; token: string }> {
    if (!looksLikeEmail(input.email)) throw new AccountError('invalid', `"${input.email}" is not an email address`);
    const existing = await this.byEmail(input.email);
    let id: string;
    if (existing) {
      id = existing.id;
      await updateUser(this.db, id, { platform_admin: true, state: 'active', email_confirmed_at: this.#now() });
    } else {
      id = await insertUser(this.db, {
        name: input.name,
        email_address: input.email,
        platform_admin: true,
        state: 'active',
        email_confirmed_at: this.#now(),
      });
    }
    await recordAudit(this.db, {
      event: 'platform-admin-created',
      actorId: null,
      userId: id,
      ip: null,
      details: { via: 'create-admin' },
    });
    const token = await this.issueToken(id, 'set-password');
    return { account: (await this.byId(id))!, token };
  }

  /** Sign-up: a pending account and the token of its confirmation link. */
  async signUp(input: {
    name: string;
    email: string;
    password: string;
    language: Language;
    ip: string | null;
  }): Promise<{ account: Account; token: string }> {
    if (!looksLikeEmail(input.email)) throw new AccountError('invalid', 'not an email address');
    if (!emailDomainAllowed(input.email, this.opts.signupDomains))
      throw new AccountError('domain-not-allowed', 'email domain not allowed');
    this.#checkPassword(input.password);
    const existing = await this.byEmail(input.email);
    if (existing && (existing.state !== 'pending' || (await userHasPassword(this.db, existing.id)) === false)) {
      throw new AccountError('email-taken', 'an account already exists');
    }
    const passwordHash = await hashPassword(input.password);
    let id: string;
    if (existing) {
      // Signing up again before confirming: the newest details win, and a new link is sent.
      id = existing.id;
      await updateUser(this.db, id, { name: input.name, password_hash: passwordHash, language: input.language });
    } else {
      id = await insertUser(this.db, {
        name: input.name,
        email_address: input.email,
        password_hash: passwordHash,
        state: 'pending',
        language: input.language,
        password_changed_at: this.#now(),
      });
      await recordAudit(this.db, { event: 'account-created', actorId: null, userId: id, ip: input.ip });
    }
    const token = await this.issueToken(id, 'confirm-email');
    return { account: (await this.byId(id))!, token };
  }

  #checkPassword(password: string): void {
    const problem = passwordProblem(password);
    if (problem) throw new AccountError('password', `password ${problem}`, problem);
  }

  issueToken(userId: string, purpose: TokenPurpose): Promise<string> {
    return issueToken(this.db, this.#now(), userId, purpose);
  }

  /** The account a link belongs to, if the link is unused and unexpired; `consume` spends it. */
  async peekToken(token: string, purpose: TokenPurpose): Promise<Account | null> {
    const userId = await tokenUser(this.db, this.#now(), token, purpose);
    return userId ? this.byId(userId) : null;
  }

  async confirmEmail(token: string, ip: string | null): Promise<Account | null> {
    const userId = await consumeToken(this.db, this.#now(), token, 'confirm-email');
    if (!userId) return null;
    await activatePendingUser(this.db, userId, this.#now());
    await recordAudit(this.db, { event: 'email-confirmed', actorId: userId, userId, ip });
    return this.byId(userId);
  }

  /** Null when the address has no account that can reset (the UI answers the same either way). */
  async requestPasswordReset(email: string, ip: string | null): Promise<{ account: Account; token: string } | null> {
    const account = await this.byEmail(email);
    if (!account || account.state === 'archived') return null;
    await recordAudit(this.db, { event: 'password-reset-requested', actorId: null, userId: account.id, ip });
    return { account, token: await this.issueToken(account.id, 'reset-password') };
  }

  /**
   * Sets a new password from a reset or set-password link. Proving the mailbox also confirms the address and
   * lifts a lockout; every session of the account ends.
   */
  async setPasswordWithToken(
    token: string,
    purpose: 'reset-password' | 'set-password',
    password: string,
    ip: string | null,
  ): Promise<Account | null> {
    this.#checkPassword(password);
    const passwordHash = await hashPassword(password);
    const userId = await consumeToken(this.db, this.#now(), token, purpose);
    if (!userId) return null;
    await setPasswordFromLink(this.db, userId, passwordHash, this.#now());
    await this.endAllSessions(userId);
    await recordAudit(this.db, { event: 'password-changed', actorId: userId, userId, ip, details: { via: purpose } });
    return this.byId(userId);
  }

  /** First step of signing in. Every failure counts towards the lockout; an unknown address takes as long. */
  async checkPassword(email: string, password: string, ip: string | null): Promise<SignInOutcome> {
    const found = await findAccountWithPassword(this.db, normaliseAccountEmail(email));
    if (!found?.passwordHash || found.account.state === 'archived') {
      await checkNoPassword(password);
      return { kind: 'bad' };
    }
    const { account } = found;
    if (account.lockedUntil && account.lockedUntil > this.#now()) return { kind: 'locked', until: account.lockedUntil };
    const ok = await passwordMatches(found.passwordHash, password);
    if (!ok) {
      const lockedUntil = await this.recordFailure(account.id, ip, 'sign-in-failed');
      return lockedUntil ? { kind: 'locked', until: lockedUntil } : { kind: 'bad' };
    }
    if (account.state === 'pending') return { kind: 'unconfirmed', account };
    return { kind: 'ok', account };
  }

  /** Counts a failed password or code; returns the lock's end when this failure locked the account. */
  async recordFailure(
    userId: string,
    ip: string | null,
    event: 'sign-in-failed' | 'second-factor-failed',
  ): Promise<Date | null> {
    const failures = await countFailedLogin(this.db, userId);
    await recordAudit(this.db, { event, actorId: null, userId, ip });
    if (failures < MAX_FAILED_ATTEMPTS) return null;
    const until = new Date(this.#now().getTime() + LOCK_MINUTES * 60_000);
    await updateUser(this.db, userId, { locked_until: until, failed_login_count: 0 });
    await this.endAllSessions(userId);
    await recordAudit(this.db, {
      event: 'account-locked',
      actorId: null,
      userId,
      ip,
      details: { until: until.toISOString() },
    });
    return until;
  }

  async unlock(userId: string, actorId: string, ip: string | null): Promise<void> {
    await updateUser(this.db, userId, { locked_until: null, failed_login_count: 0 });
    await recordAudit(this.db, { event: 'account-unlocked', actorId, userId, ip });
  }

  // ---- sessions (sessions.ts) -------------------------------------------------------------------------------

  /** A new session (and its cookie token) at `stage`; a session id is never reused across stages. */
  createSession(
    userId: string,
    stage: Session['stage'],
    meta: { ip: string | null; userAgent: string | null },
  ): Promise<string> {
    return startSession(this.db, this.#now(), userId, stage, meta);
  }

  /** The live session of a cookie token, or null when unknown, expired or idle for too long. */
  session(token: string): Promise<Session | null> {
    return liveSession(this.db, this.#now(), token);
  }

  async endSession(sessionId: string): Promise<void> {
    await deleteSession(this.db, sessionId);
  }

  /** Ends every session of the person (and clears everyone's expired ones). */
  async endAllSessions(userId: string): Promise<void> {
    await deleteUserSessions(this.db, userId, this.#now());
  }

  /** The second step passed: the pre-session ends and a signed-in one begins. */
  async completeSignIn(
    preSessionId: string,
    account: Account,
    meta: { ip: string | null; userAgent: string | null },
    method: string,
    details: Record<string, unknown> = {},
  ): Promise<string> {
    await this.endSession(preSessionId);
    await updateUser(this.db, account.id, { failed_login_count: 0, last_signed_in_at: this.#now() });
    await recordAudit(this.db, {
      event: 'sign-in',
      actorId: account.id,
      userId: account.id,
      ip: meta.ip,
      details: { method, ...details },
    });
    return this.createSession(account.id, 'signed-in', meta);
  }

  // ---- the second step (two-step.ts) --------------------------------------------------------------------------

  /** A new 6-digit code (older ones stop working); the caller sends it. */
  issueCode(userId: string, method: 'email' | 'sms'): Promise<string> {
    return twoStep.issueCode(this.db, this.secrets, this.#now(), userId, method);
  }

  verifyCode(userId: string, code: string): Promise<boolean> {
    return twoStep.verifyCode(this.db, this.secrets, this.#now(), userId, code);
  }

  /** Starts setting up an app: a new secret, kept unconfirmed until a code from the app proves it was added. */
  async beginTotp(account: Account): Promise<{ secret: string; uri: string }> {
    const secret = await twoStep.beginTotp(this.db, this.secrets, this.#now(), account.id);
    return { secret, uri: twoStep.totpUri(this.opts.issuer, account.email, secret) };
  }

  /** The secret being set up (to show it again after a wrong code). */
  async pendingTotpSecret(userId: string): Promise<{ secret: string; uri: string } | null> {
    const secret = await twoStep.pendingTotpSecret(this.db, this.secrets, userId);
    if (secret === null) return null;
    const account = await this.byId(userId);
    return { secret, uri: twoStep.totpUri(this.opts.issuer, account?.email ?? '', secret) };
  }

  async confirmTotp(userId: string, code: string, ip: string | null): Promise<boolean> {
    if (!(await this.verifyTotp(userId, code, { pending: true }))) return false;
    await confirmTotpSecret(this.db, userId, this.#now());
    await this.setAuthType(userId, 'totp', userId, ip);
    return true;
  }

  /** Checks a code from the app, one time step either way, and never the same step twice. */
  verifyTotp(userId: string, code: string, opts: { pending?: boolean } = {}): Promise<boolean> {
    return twoStep.verifyTotp(this.db, this.secrets, this.#now(), { userId, code, pending: opts.pending });
  }

  // ---- second-factor settings ---------------------------------------------------------------------------------

  async setAuthType(userId: string, authType: AuthType, actorId: string, ip: string | null): Promise<void> {
    await updateUser(this.db, userId, { auth_type: authType });
    if (authType !== 'totp') await deleteTotpSecret(this.db, userId, { unconfirmedOnly: true });
    // Security keys count only while they are the way to sign in (the two-step page says so before the change).
    if (authType !== 'security_key') {
      for (const name of await deleteUserCredentials(this.db, userId))
        await recordAudit(this.db, {
          event: 'security-key-removed',
          actorId,
          userId,
          ip,
          details: { securityKeyName: name },
        });
    }
    await recordAudit(this.db, { event: 'second-factor-changed', actorId, userId, ip, details: { method: authType } });
  }

  async setMobileNumber(userId: string, mobile: string | null): Promise<void> {
    await updateUser(this.db, userId, { mobile_number: mobile });
  }

  async setLanguage(userId: string, language: Language): Promise<void> {
    await updateUser(this.db, userId, { language });
  }

  /**
   * A platform admin recovers a lost second factor: the app secret and security keys are removed and the
   * account goes back to codes by email; its sessions end.
   */
  async resetSecondFactor(userId: string, actorId: string, ip: string | null): Promise<void> {
    await deleteTotpSecret(this.db, userId);
    await deleteUserCredentials(this.db, userId);
    await updateUser(this.db, userId, { auth_type: 'email' });
    await this.endAllSessions(userId);
    await recordAudit(this.db, { event: 'second-factor-reset', actorId, userId, ip });
  }
}
