/**
 * Account rules on a real database (PGlite, or PostgreSQL with DATABASE_URL): passwords, allowed domains,
 * session timeouts, single-use links, code attempts, authenticator replay; and `envoi create-admin` as an
 * operator runs it, followed by choosing the password over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from 'otplib';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';
import { createSandbox, type EnvoiSandbox } from '../support/envoi-process.ts';
import { TEST_SECRET_KEY } from '../support/envoi.ts';
import {
  Accounts,
  emailDomainAllowed,
  passwordProblem,
  SESSION_IDLE_MINUTES,
} from '../../src/platform/accounts/accounts.ts';
import { SecretBox } from '../../src/platform/secret-box.ts';
import { systemUserId } from '../../src/platform/repositories/users.ts';

describe('password rules', () => {
  it('refuses short passwords and common ones, whatever their case', () => {
    expect(passwordProblem('abc123')).toBe('too-short');
    expect(passwordProblem('1234567')).toBe('too-short');
    expect(passwordProblem('password1')).toBe('common');
    expect(passwordProblem('PassWord1')).toBe('common');
    expect(passwordProblem('iloveyou2')).toBe('common');
    expect(passwordProblem('qwertyuiop')).toBe('common');
    expect(passwordProblem('x'.repeat(300))).toBe('too-long');
    expect(passwordProblem('correct horse battery staple')).toBeNull();
    expect(passwordProblem('éèàçôîû!')).toBeNull();
  });

  it('allows sign-up on the configured domains and their subdomains only', () => {
    const domains = ['gc.ca', 'canada.ca'];
    expect(emailDomainAllowed('a@gc.ca', domains)).toBe(true);
    expect(emailDomainAllowed('a@TBS-SCT.GC.CA', domains)).toBe(true);
    expect(emailDomainAllowed('a@canada.ca', domains)).toBe(true);
    expect(emailDomainAllowed('a@notgc.ca', domains)).toBe(false);
    expect(emailDomainAllowed('a@gc.ca.example.com', domains)).toBe(false);
    expect(emailDomainAllowed('a@example.com', domains)).toBe(false);
  });
});

describe('accounts on the database', () => {
  let database: TestDatabase;
  let clock = new Date('2026-03-02T14:00:00Z');
  let accounts: Accounts;

  beforeAll(async () => {
    database = await openTestDatabase();
    accounts = new Accounts(database.db, new SecretBox(TEST_SECRET_KEY), {
      signupDomains: ['gc.ca'],
      now: () => clock,
    });
  });
  afterAll(() => database?.close());

  it('counts no account while only the system user and provisioned team members exist', async () => {
    await systemUserId(database.db, 'notification.localhost');
    await database.db
      .insertInto('users')
      .values({ name: 'Team', email_address: 'team@gc.ca', mobile_number: null })
      .execute();
    expect(await accounts.hasAnyAccount()).toBe(false);
    const admin = await accounts.createFirstAdmin({
      name: 'Ada',
      email: 'ada@gc.ca',
      password: 'a long passphrase',
      language: 'en',
      ip: null,
    });
    expect(admin?.platformAdmin).toBe(true);
    expect(await accounts.hasAnyAccount()).toBe(true);
    // A second first-run submission is refused.
    expect(
      await accounts.createFirstAdmin({
        name: 'Eve',
        email: 'eve@gc.ca',
        password: 'a long passphrase',
        language: 'en',
        ip: null,
      }),
    ).toBeNull();
  });

  it('ends a session after 30 idle minutes and after 12 hours whatever the activity', async () => {
    const admin = (await accounts.byEmail('ADA@gc.ca'))!;
    const token = await accounts.createSession(admin.id, 'signed-in', { ip: null, userAgent: null });
    clock = new Date(clock.getTime() + (SESSION_IDLE_MINUTES - 1) * 60_000);
    expect((await accounts.session(token))?.account.email).toBe('ada@gc.ca');
    clock = new Date(clock.getTime() + (SESSION_IDLE_MINUTES + 1) * 60_000);
    expect(await accounts.session(token)).toBeNull();

    const busy = await accounts.createSession(admin.id, 'signed-in', { ip: null, userAgent: null });
    for (let i = 0; i < 12 * 3; i++) {
      clock = new Date(clock.getTime() + 20 * 60_000);
      const alive = await accounts.session(busy);
      if (i < 12 * 3 - 1) expect(alive, `after ${(i + 1) * 20} minutes`).not.toBeNull();
      else expect(alive).toBeNull();
    }
  });

  it('spends links once and refuses them once expired', async () => {
    const { account, token } = await accounts.signUp({
      name: 'Bo',
      email: 'bo@gc.ca',
      password: 'a long passphrase',
      language: 'fr',
      ip: null,
    });
    expect(account.state).toBe('pending');
    expect((await accounts.checkPassword('bo@gc.ca', 'a long passphrase', null)).kind).toBe('unconfirmed');
    expect((await accounts.confirmEmail(token, null))?.state).toBe('active');
    expect(await accounts.confirmEmail(token, null)).toBeNull();

    const reset = (await accounts.requestPasswordReset('bo@gc.ca', null))!;
    clock = new Date(clock.getTime() + 61 * 60_000);
    expect(await accounts.setPasswordWithToken(reset.token, 'reset-password', 'another passphrase', null)).toBeNull();
    expect((await accounts.checkPassword('bo@gc.ca', 'a long passphrase', null)).kind).toBe('ok');
  });

  it('gives a code five tries, and locks the account after ten failures in a row', async () => {
    const bo = (await accounts.byEmail('bo@gc.ca'))!;
    const code = await accounts.issueCode(bo.id, 'email');
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++) expect(await accounts.verifyCode(bo.id, wrong)).toBe(false);
    expect(await accounts.verifyCode(bo.id, code)).toBe(false);
    const fresh = await accounts.issueCode(bo.id, 'email');
    expect(await accounts.verifyCode(bo.id, fresh)).toBe(true);
    expect(await accounts.verifyCode(bo.id, fresh)).toBe(false);

    for (let i = 0; i < 9; i++) expect((await accounts.checkPassword('bo@gc.ca', `wrong ${i}`, null)).kind).toBe('bad');
    const locked = await accounts.checkPassword('bo@gc.ca', 'wrong 10', null);
    expect(locked.kind).toBe('locked');
    expect((await accounts.checkPassword('bo@gc.ca', 'a long passphrase', null)).kind).toBe('locked');
    clock = new Date(clock.getTime() + 61 * 60_000);
    expect((await accounts.checkPassword('bo@gc.ca', 'a long passphrase', null)).kind).toBe('ok');
  });

  it('never accepts the same authenticator code twice, and keeps the secret sealed', async () => {
    const bo = (await accounts.byEmail('bo@gc.ca'))!;
    const { secret } = await accounts.beginTotp(bo);
    const epoch = Math.floor(clock.getTime() / 1000);
    const code = await generate({ secret, epoch });
    expect(await accounts.verifyTotp(bo.id, code)).toBe(false); // not confirmed yet
    expect(await accounts.confirmTotp(bo.id, code, null)).toBe(true);
    expect((await accounts.byId(bo.id))?.authType).toBe('totp');
    expect(await accounts.verifyTotp(bo.id, code)).toBe(false);
    expect(await accounts.verifyTotp(bo.id, await generate({ secret, epoch: epoch + 30 }))).toBe(true);
    const row = await database.db
      .selectFrom('totp_secrets')
      .selectAll()
      .where('user_id', '=', bo.id)
      .executeTakeFirstOrThrow();
    expect(row.secret_sealed).not.toContain(secret);

    await accounts.resetSecondFactor(bo.id, bo.id, null);
    expect((await accounts.byId(bo.id))?.authType).toBe('email');
    const audit = await database.db.selectFrom('audit_events').select('event').where('user_id', '=', bo.id).execute();
    expect(audit.map((a) => a.event)).toEqual(
      expect.arrayContaining([
        'account-created',
        'email-confirmed',
        'account-locked',
        'second-factor-changed',
        'second-factor-reset',
      ]),
    );
  });
});

describe('envoi create-admin', () => {
  let sandbox: EnvoiSandbox;
  beforeAll(async () => {
    sandbox = await createSandbox('envoi-create-admin');
  });
  afterAll(() => sandbox?.cleanup());

  it('prints a one-time link where the new platform admin chooses a password', async () => {
    const created = await sandbox.envoi(
      'create-admin',
      '--email',
      'first.admin@tbs-sct.gc.ca',
      '--name',
      'First Admin',
    );
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const link = /\/set-password\/[\w-]+/.exec(created.stdout)![0];

    const { child, url } = await sandbox.start();
    try {
      // No first-run page: an account exists.
      const home = await fetch(url, { redirect: 'manual' });
      expect(home.status).toBe(303);
      expect(home.headers.get('location')).toBe('/sign-in');

      const form = await fetch(`${url}${link}`);
      const page = await form.text();
      expect(page).toContain('first.admin@tbs-sct.gc.ca');
      const cookie = form.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ');
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
      const saved = await fetch(`${url}${link}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: csrf, password: 'a fine long passphrase' }).toString(),
      });
      expect(saved.status).toBe(303);
      expect(saved.headers.get('location')).toBe('/sign-in?notice=password-changed');
      expect((await fetch(`${url}${link}`)).status).toBe(404);

      const signIn = await fetch(`${url}/sign-in`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          _csrf: csrf,
          email: 'first.admin@tbs-sct.gc.ca',
          password: 'a fine long passphrase',
        }).toString(),
      });
      expect(signIn.headers.get('location')).toBe('/sign-in/code');
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });
});
