/**
 * Accounts of the people who use the web UI: sign-up on allowed email domains, passwords (argon2id, refused when
 * short or common), two-step verification (a code by email or text message, an authenticator app, a security
 * key), lockout after repeated failures, server-side sessions, and the single-use links sent by email.
 * No HTTP here: the admin routes call these methods and render what they answer.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import { generateSecret, generateURI, verify as verifyTotp } from 'otplib';
import { sql } from 'kysely';
import type { Db } from '../database/connection.ts';
import type { AuthType } from '../database/schema.ts';
import type { SecretBox } from '../secret-box.ts';
import { recordAudit, type AuditInput } from '../audit.ts';
import type { Language } from './account-messages.ts';

export const PASSWORD_MIN_LENGTH = 8;
/** Failed passwords and codes in a row before the account is locked. */
export const MAX_FAILED_ATTEMPTS = 10;
export const LOCK_MINUTES = 60;
export const SESSION_IDLE_MINUTES = 30;
export const SESSION_ABSOLUTE_HOURS = 12;
/** Between the password and the second step. */
const SECOND_FACTOR_MINUTES = 15;
export const CODE_MINUTES = 15;
const MAX_CODE_ATTEMPTS = 5;
const TOKEN_HOURS = { 'confirm-email': 24, 'reset-password': 1, 'set-password': 72 } as const;
/** Last-seen times are written at most this often, not on every request. */
const TOUCH_SECONDS = 60;

export type TokenPurpose = keyof typeof TOKEN_HOURS;

export interface Account {
  id: string;
  name: string;
  email: string;
  mobileNumber: string | null;
  platformAdmin: boolean;
  state: 'pending' | 'active' | 'archived';
  authType: AuthType;
  language: Language;
  lockedUntil: Date | null;
  failedLoginCount: number;
  createdAt: Date;
  lastSignedInAt: Date | null;
}

export interface Session {
  /** The hash stored as the row's id. */
  id: string;
  stage: 'second-factor' | 'signed-in';
  csrfToken: string;
  createdAt: Date;
  account: Account;
}

export type PasswordProblem = 'too-short' | 'too-long' | 'common';

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

const COMMON_PASSWORDS: ReadonlySet<string> = new Set(
  readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#')),
);

/** Null when the password is acceptable. Compared without case: "Password1" is as common as "password1". */
export function passwordProblem(password: string): PasswordProblem | null {
  if ([...password].length < PASSWORD_MIN_LENGTH) return 'too-short';
  if (password.length > 256) return 'too-long';
  if (COMMON_PASSWORDS.has(password.toLowerCase())) return 'common';
  return null;
}

/** An email address's domain is allowed when it is one of `domains` or below one (x.gc.ca for gc.ca). */
export function emailDomainAllowed(email: string, domains: readonly string[]): boolean {
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
  return domains.some((d) => domain === d.toLowerCase() || domain.endsWith(`.${d.toLowerCase()}`));
}

export function normaliseAccountEmail(email: string): string {
  return email.trim();
}

export function looksLikeEmail(email: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) && email.length <= 320;
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');
const newToken = () => randomBytes(32).toString('base64url');

// A hash to verify against when the email is unknown, so that the answer takes as long as for a real account.
let dummyHash: Promise<string> | null = null;

type UserRow = {
  id: string;
  name: string;
  email_address: string;
  mobile_number: string | null;
  platform_admin: boolean;
  state: 'pending' | 'active' | 'archived';
  auth_type: AuthType;
  language: 'en' | 'fr';
  locked_until: Date | null;
  failed_login_count: number;
  created_at: Date;
  last_signed_in_at: Date | null;
};

const USER_COLUMNS = [
  'users.id',
  'users.name',
  'users.email_address',
  'users.mobile_number',
  'users.platform_admin',
  'users.state',
  'users.auth_type',
  'users.language',
  'users.locked_until',
  'users.failed_login_count',
  'users.created_at',
  'users.last_signed_in_at',
] as const;

function toAccount(r: UserRow): Account {
  return {
    id: r.id,
    name: r.name,
    email: r.email_address,
    mobileNumber: r.mobile_number,
    platformAdmin: r.platform_admin,
    state: r.state,
    authType: r.auth_type,
    language: r.language,
    lockedUntil: r.locked_until,
    failedLoginCount: r.failed_login_count,
    createdAt: r.created_at,
    lastSignedInAt: r.last_signed_in_at,
  };
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
  async hasAnyAccount(): Promise<boolean> {
    const row = await this.db
      .selectFrom('users')
      .select('id')
      .where((eb) => eb.or([eb('password_hash', 'is not', null), eb('platform_admin', '=', true)]))
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  async byId(id: string): Promise<Account | null> {
    const row = await this.db.selectFrom('users').select(USER_COLUMNS).where('id', '=', id).executeTakeFirst();
    return row ? toAccount(row) : null;
  }

  async byEmail(email: string): Promise<Account | null> {
    const row = await this.db
      .selectFrom('users')
      .select(USER_COLUMNS)
      .where(sql`lower(email_address)`, '=', normaliseAccountEmail(email).toLowerCase())
      .executeTakeFirst();
    return row ? toAccount(row) : null;
  }

  async list(): Promise<Account[]> {
    const rows = await this.db
      .selectFrom('users')
      .select(USER_COLUMNS)
      .where((eb) =>
        eb.or([eb('password_hash', 'is not', null), eb('platform_admin', '=', true), eb('state', '=', 'pending')]),
      )
      .orderBy('users.email_address')
      .execute();
    return rows.map(toAccount);
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
    const passwordHash = await argon2Hash(input.password);
    return this.db.transaction().execute(async (trx) => {
      // Serialises two first-run submissions racing each other.
      await sql`SELECT pg_advisory_xact_lock(4206012)`.execute(trx);
      const any = await new Accounts(trx, this.secrets, this.opts).hasAnyAccount();
      if (any) return null;
      const existing = await trx
        .selectFrom('users')
        .select('id')
        .where(sql`lower(email_address)`, '=', input.email.toLowerCase())
        .executeTakeFirst();
      const values = {
        name: input.name,
        password_hash: passwordHash,
        platform_admin: true,
        state: 'active' as const,
        email_confirmed_at: this.#now(),
        language: input.language,
        password_changed_at: this.#now(),
      };
      const id = existing
        ? (
            await trx
              .updateTable('users')
              .set(values)
              .where('id', '=', existing.id)
              .returning('id')
              .executeTakeFirstOrThrow()
          ).id
        : (
            await trx
              .insertInto('users')
              .values({ ...values, email_address: input.email })
              .returning('id')
              .executeTakeFirstOrThrow()
          ).id;
      await recordAudit(trx, {
        event: 'platform-admin-created',
        actorId: null,
        userId: id,
        ip: input.ip,
        details: { via: 'first-run' },
      });
      return (await new Accounts(trx, this.secrets, this.opts).byId(id))!;
    });
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
      await this.db
        .updateTable('users')
        .set({ platform_admin: true, state: 'active', email_confirmed_at: this.#now() })
        .where('id', '=', id)
        .execute();
    } else {
      id = (
        await this.db
          .insertInto('users')
          .values({
            name: input.name,
            email_address: input.email,
            platform_admin: true,
            state: 'active',
            email_confirmed_at: this.#now(),
          })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id;
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
    if (existing && (existing.state !== 'pending' || (await this.#hasPassword(existing.id)) === false)) {
      throw new AccountError('email-taken', 'an account already exists');
    }
    const passwordHash = await argon2Hash(input.password);
    let id: string;
    if (existing) {
      // Signing up again before confirming: the newest details win, and a new link is sent.
      id = existing.id;
      await this.db
        .updateTable('users')
        .set({ name: input.name, password_hash: passwordHash, language: input.language })
        .where('id', '=', id)
        .execute();
    } else {
      id = (
        await this.db
          .insertInto('users')
          .values({
            name: input.name,
            email_address: input.email,
            password_hash: passwordHash,
            state: 'pending',
            language: input.language,
            password_changed_at: this.#now(),
          })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id;
      await recordAudit(this.db, { event: 'account-created', actorId: null, userId: id, ip: input.ip });
    }
    const token = await this.issueToken(id, 'confirm-email');
    return { account: (await this.byId(id))!, token };
  }

  async #hasPassword(userId: string): Promise<boolean> {
    const row = await this.db.selectFrom('users').select('password_hash').where('id', '=', userId).executeTakeFirst();
    return !!row?.password_hash;
  }

  #checkPassword(password: string): void {
    const problem = passwordProblem(password);
    if (problem) throw new AccountError('password', `password ${problem}`, problem);
  }

  async issueToken(userId: string, purpose: TokenPurpose): Promise<string> {
    const token = newToken();
    const expires = new Date(this.#now().getTime() + TOKEN_HOURS[purpose] * 3600_000);
    // A new link replaces older unused ones of the same kind.
    await this.db
      .updateTable('account_tokens')
      .set({ used_at: this.#now() })
      .where('user_id', '=', userId)
      .where('purpose', '=', purpose)
      .where('used_at', 'is', null)
      .execute();
    await this.db
      .insertInto('account_tokens')
      .values({ token_hash: sha256(token), user_id: userId, purpose, expires_at: expires })
      .execute();
    return token;
  }

  /** The account a link belongs to, if the link is unused and unexpired; `consume` spends it. */
  async peekToken(token: string, purpose: TokenPurpose): Promise<Account | null> {
    const row = await this.db
      .selectFrom('account_tokens')
      .select('user_id')
      .where('token_hash', '=', sha256(token))
      .where('purpose', '=', purpose)
      .where('used_at', 'is', null)
      .where('expires_at', '>', this.#now())
      .executeTakeFirst();
    return row ? this.byId(row.user_id) : null;
  }

  async #consumeToken(token: string, purpose: TokenPurpose): Promise<string | null> {
    const row = await this.db
      .updateTable('account_tokens')
      .set({ used_at: this.#now() })
      .where('token_hash', '=', sha256(token))
      .where('purpose', '=', purpose)
      .where('used_at', 'is', null)
      .where('expires_at', '>', this.#now())
      .returning('user_id')
      .executeTakeFirst();
    return row?.user_id ?? null;
  }

  async confirmEmail(token: string, ip: string | null): Promise<Account | null> {
    const userId = await this.#consumeToken(token, 'confirm-email');
    if (!userId) return null;
    await this.db
      .updateTable('users')
      .set({ state: 'active', email_confirmed_at: this.#now() })
      .where('id', '=', userId)
      .where('state', '=', 'pending')
      .execute();
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
    const passwordHash = await argon2Hash(password);
    const userId = await this.#consumeToken(token, purpose);
    if (!userId) return null;
    await this.db
      .updateTable('users')
      .set({
        password_hash: passwordHash,
        password_changed_at: this.#now(),
        failed_login_count: 0,
        locked_until: null,
        state: 'active',
        email_confirmed_at: sql`coalesce(email_confirmed_at, now())`,
      })
      .where('id', '=', userId)
      .where('state', '!=', 'archived')
      .execute();
    await this.endAllSessions(userId);
    await recordAudit(this.db, { event: 'password-changed', actorId: userId, userId, ip, details: { via: purpose } });
    return this.byId(userId);
  }

  /** First step of signing in. Every failure counts towards the lockout; an unknown address takes as long. */
  async checkPassword(email: string, password: string, ip: string | null): Promise<SignInOutcome> {
    const row = await this.db
      .selectFrom('users')
      .select([...USER_COLUMNS, 'users.password_hash'])
      .where(sql`lower(email_address)`, '=', normaliseAccountEmail(email).toLowerCase())
      .executeTakeFirst();
    if (!row?.password_hash || row.state === 'archived') {
      dummyHash ??= argon2Hash('not a real password, only for timing');
      await argon2Verify(await dummyHash, password).catch(() => false);
      return { kind: 'bad' };
    }
    const account = toAccount(row);
    if (account.lockedUntil && account.lockedUntil > this.#now()) return { kind: 'locked', until: account.lockedUntil };
    const ok = await argon2Verify(row.password_hash, password).catch(() => false);
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
    const row = await this.db
      .updateTable('users')
      .set({ failed_login_count: sql`failed_login_count + 1` })
      .where('id', '=', userId)
      .returning('failed_login_count')
      .executeTakeFirstOrThrow();
    await recordAudit(this.db, { event, actorId: null, userId, ip });
    if (row.failed_login_count < MAX_FAILED_ATTEMPTS) return null;
    const until = new Date(this.#now().getTime() + LOCK_MINUTES * 60_000);
    await this.db
      .updateTable('users')
      .set({ locked_until: until, failed_login_count: 0 })
      .where('id', '=', userId)
      .execute();
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
    await this.db
      .updateTable('users')
      .set({ locked_until: null, failed_login_count: 0 })
      .where('id', '=', userId)
      .execute();
    await recordAudit(this.db, { event: 'account-unlocked', actorId, userId, ip });
  }

  // ---- sessions ---------------------------------------------------------------------------------------------

  /** A new session (and its cookie token) at `stage`; a session id is never reused across stages. */
  async createSession(
    userId: string,
    stage: Session['stage'],
    meta: { ip: string | null; userAgent: string | null },
  ): Promise<string> {
    const token = newToken();
    const now = this.#now();
    const expires = new Date(
      now.getTime() + (stage === 'signed-in' ? SESSION_ABSOLUTE_HOURS * 3600_000 : SECOND_FACTOR_MINUTES * 60_000),
    );
    await this.db
      .insertInto('sessions')
      .values({
        id: sha256(token),
        user_id: userId,
        stage,
        csrf_token: newToken(),
        created_at: now,
        last_seen_at: now,
        expires_at: expires,
        ip: meta.ip,
        user_agent: meta.userAgent?.slice(0, 500) ?? null,
      })
      .execute();
    return token;
  }

  /** The live session of a cookie token, or null when unknown, expired or idle for too long. */
  async session(token: string): Promise<Session | null> {
    if (!token || token.length > 100) return null;
    const id = sha256(token);
    const row = await this.db
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .select([
        ...USER_COLUMNS,
        'sessions.stage',
        'sessions.csrf_token',
        'sessions.created_at as session_created_at',
        'sessions.last_seen_at',
        'sessions.expires_at',
      ])
      .where('sessions.id', '=', id)
      .executeTakeFirst();
    if (!row) return null;
    const now = this.#now();
    const idleLimit = now.getTime() - SESSION_IDLE_MINUTES * 60_000;
    if (
      row.expires_at <= now ||
      row.last_seen_at.getTime() < idleLimit ||
      row.state !== 'active' ||
      (row.locked_until && row.locked_until > now)
    ) {
      await this.db.deleteFrom('sessions').where('id', '=', id).execute();
      return null;
    }
    if (now.getTime() - row.last_seen_at.getTime() > TOUCH_SECONDS * 1000) {
      await this.db.updateTable('sessions').set({ last_seen_at: now }).where('id', '=', id).execute();
    }
    return {
      id,
      stage: row.stage,
      csrfToken: row.csrf_token,
      createdAt: row.session_created_at,
      account: toAccount(row),
    };
  }

  async endSession(sessionId: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id', '=', sessionId).execute();
  }

  async endAllSessions(userId: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('user_id', '=', userId).execute();
    // Expired rows of everyone go too, so the table does not grow with abandoned sessions.
    await this.db.deleteFrom('sessions').where('expires_at', '<', this.#now()).execute();
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
    await this.db
      .updateTable('users')
      .set({ failed_login_count: 0, last_signed_in_at: this.#now() })
      .where('id', '=', account.id)
      .execute();
    await recordAudit(this.db, {
      event: 'sign-in',
      actorId: account.id,
      userId: account.id,
      ip: meta.ip,
      details: { method, ...details },
    });
    return this.createSession(account.id, 'signed-in', meta);
  }

  // ---- codes by email or text message -------------------------------------------------------------------------

  /** A new 6-digit code (older ones stop working); the caller sends it. */
  async issueCode(userId: string, method: 'email' | 'sms'): Promise<string> {
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const now = this.#now();
    await this.db
      .updateTable('login_codes')
      .set({ used_at: now })
      .where('user_id', '=', userId)
      .where('used_at', 'is', null)
      .execute();
    await this.db
      .insertInto('login_codes')
      .values({
        user_id: userId,
        method,
        code_hash: this.#codeHash(userId, code),
        created_at: now,
        expires_at: new Date(now.getTime() + CODE_MINUTES * 60_000),
      })
      .execute();
    return code;
  }

  // Keyed, because a 6-digit code is quick to find from a plain hash.
  #codeHash(userId: string, code: string): string {
    return this.secrets.digest(`login-code:${userId}:${code}`);
  }

  async verifyCode(userId: string, code: string): Promise<boolean> {
    const cleaned = code.replace(/\s+/g, '');
    const row = await this.db
      .selectFrom('login_codes')
      .selectAll()
      .where('user_id', '=', userId)
      .where('used_at', 'is', null)
      .where('expires_at', '>', this.#now())
      .orderBy('created_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!row || row.attempts >= MAX_CODE_ATTEMPTS) return false;
    if (/^\d{6}$/.test(cleaned) && row.code_hash === this.#codeHash(userId, cleaned)) {
      const spent = await this.db
        .updateTable('login_codes')
        .set({ used_at: this.#now() })
        .where('id', '=', row.id)
        .where('used_at', 'is', null)
        .returning('id')
        .executeTakeFirst();
      return spent !== undefined;
    }
    await this.db.updateTable('login_codes').set({ attempts: sql`attempts + 1` }).where('id', '=', row.id).execute();
    return false;
  }

  // ---- authenticator app (TOTP) ---------------------------------------------------------------------------------

  /** Starts setting up an app: a new secret, kept unconfirmed until a code from the app proves it was added. */
  async beginTotp(account: Account): Promise<{ secret: string; uri: string }> {
    const secret = generateSecret();
    await this.db
      .insertInto('totp_secrets')
      .values({
        user_id: account.id,
        secret_sealed: this.secrets.seal(secret),
        confirmed_at: null,
        last_used_step: null,
      })
      .onConflict((oc) =>
        oc.column('user_id').doUpdateSet({
          secret_sealed: this.secrets.seal(secret),
          confirmed_at: null,
          last_used_step: null,
          created_at: this.#now(),
        }),
      )
      .execute();
    return { secret, uri: generateURI({ issuer: this.opts.issuer ?? 'Envoi', label: account.email, secret }) };
  }

  /** The secret being set up (to show it again after a wrong code). */
  async pendingTotpSecret(userId: string): Promise<{ secret: string; uri: string } | null> {
    const row = await this.db
      .selectFrom('totp_secrets')
      .select(['secret_sealed', 'confirmed_at'])
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (!row || row.confirmed_at) return null;
    const account = await this.byId(userId);
    const secret = this.secrets.open(row.secret_sealed);
    return { secret, uri: generateURI({ issuer: this.opts.issuer ?? 'Envoi', label: account?.email ?? '', secret }) };
  }

  async confirmTotp(userId: string, code: string, ip: string | null): Promise<boolean> {
    if (!(await this.verifyTotp(userId, code, { pending: true }))) return false;
    await this.db
      .updateTable('totp_secrets')
      .set({ confirmed_at: this.#now() })
      .where('user_id', '=', userId)
      .execute();
    await this.setAuthType(userId, 'totp', userId, ip);
    return true;
  }

  /** Checks a code from the app, one time step either way, and never the same step twice. */
  async verifyTotp(userId: string, code: string, opts: { pending?: boolean } = {}): Promise<boolean> {
    const cleaned = code.replace(/\s+/g, '');
    if (!/^\d{6}$/.test(cleaned)) return false;
    const row = await this.db.selectFrom('totp_secrets').selectAll().where('user_id', '=', userId).executeTakeFirst();
    if (!row || (!opts.pending && !row.confirmed_at)) return false;
    const result = await verifyTotp({
      secret: this.secrets.open(row.secret_sealed),
      token: cleaned,
      epochTolerance: 30,
      epoch: Math.floor(this.#now().getTime() / 1000),
      ...(row.last_used_step !== null ? { afterTimeStep: Number(row.last_used_step) } : {}),
    }).catch(() => ({ valid: false as const }));
    if (!result.valid) return false;
    const step = (result as { timeStep: number }).timeStep;
    const used = await this.db
      .updateTable('totp_secrets')
      .set({ last_used_step: step })
      .where('user_id', '=', userId)
      .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)]))
      .returning('user_id')
      .executeTakeFirst();
    return used !== undefined;
  }

  // ---- second-factor settings ---------------------------------------------------------------------------------

  async setAuthType(userId: string, authType: AuthType, actorId: string, ip: string | null): Promise<void> {
    await this.db.updateTable('users').set({ auth_type: authType }).where('id', '=', userId).execute();
    if (authType !== 'totp')
      await this.db
        .deleteFrom('totp_secrets')
        .where('user_id', '=', userId)
        .where('confirmed_at', 'is', null)
        .execute();
    // Security keys count only while they are the way to sign in (the two-step page says so before the change).
    if (authType !== 'security_key') {
      const removed = await this.db
        .deleteFrom('webauthn_credentials')
        .where('user_id', '=', userId)
        .returning('name')
        .execute();
      for (const key of removed)
        await recordAudit(this.db, {
          event: 'security-key-removed',
          actorId,
          userId,
          ip,
          details: { securityKeyName: key.name },
        });
    }
    await recordAudit(this.db, { event: 'second-factor-changed', actorId, userId, ip, details: { method: authType } });
  }

  async setMobileNumber(userId: string, mobile: string | null): Promise<void> {
    await this.db.updateTable('users').set({ mobile_number: mobile }).where('id', '=', userId).execute();
  }

  async setLanguage(userId: string, language: Language): Promise<void> {
    await this.db.updateTable('users').set({ language }).where('id', '=', userId).execute();
  }

  /**
   * A platform admin recovers a lost second factor: the app secret and security keys are removed and the
   * account goes back to codes by email; its sessions end.
   */
  async resetSecondFactor(userId: string, actorId: string, ip: string | null): Promise<void> {
    await this.db.deleteFrom('totp_secrets').where('user_id', '=', userId).execute();
    await this.db.deleteFrom('webauthn_credentials').where('user_id', '=', userId).execute();
    await this.db.updateTable('users').set({ auth_type: 'email' }).where('id', '=', userId).execute();
    await this.endAllSessions(userId);
    await recordAudit(this.db, { event: 'second-factor-reset', actorId, userId, ip });
  }
}
