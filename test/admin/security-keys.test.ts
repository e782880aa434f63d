/**
 * Security keys in a real browser (Debian's Chromium) with Chromium's virtual authenticator, in English and in
 * French, axe on every page: add a key from the two-step page, sign in with the password and the key, see it in
 * the audit log; a key that is not the account's, a removed key, a cancelled or expired ceremony and a page without
 * JavaScript each get a clear message; a platform admin's reset removes the keys. WebAuthn needs a host name (never
 * an IP address) in a secure context, so the browser goes to http://localhost, Envoi's public URL (HOST).
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { sql } from 'kysely';
import { startEnvoi, type RunningEnvoi } from '../support/envoi.ts';
import { describeWithBrowser, expectAccessible, launchBrowser, newPage } from '../support/browser.ts';
import { codeIn, linkIn, systemInbox } from '../support/system-mail.ts';
import { listAudit } from '../../src/platform/audit.ts';
import { MESSAGES } from '../../src/platform/ui/i18n/index.ts';

interface Authenticator {
  cdp: CDPSession;
  id: string;
}

for (const lang of ['en', 'fr'] as const) {
  const w = MESSAGES[lang];
  const locale = lang === 'fr' ? 'fr-CA' : 'en-CA';

  describeWithBrowser(`security keys (${lang})`, () => {
    let envoi: RunningEnvoi;
    let browser: Browser;
    let base: string;
    const admin = {
      name: 'Alex Admin',
      email: `admin.${lang}@tbs-sct.gc.ca`,
      password: 'correct horse battery staple',
    };
    const user = { name: 'Kim Keys', email: `kim.${lang}@canada.ca`, password: 'a long enough passphrase' };
    /** The page of the user (it keeps its virtual authenticators from one test to the next). */
    let kim: Page;
    let yubikey: Authenticator;

    beforeAll(async () => {
      envoi = await startEnvoi({ worker: true, env: { HOST: 'localhost' } });
      browser = await launchBrowser();
      base = envoi.url.replace('//127.0.0.1:', '//localhost:');
    });
    afterAll(async () => {
      await browser?.close();
      await envoi?.stop();
    });

    const inbox = systemInbox(() => envoi.database.db);
    const nextMessage = (to: string) => inbox.next(to);
    const heading = async (p: Page) => (await p.locator('h1').innerText()).trim();
    async function submit(p: Page, action: string) {
      await p.locator(`form[action="${action}"] button[type=submit]`).first().click();
      await p.waitForLoadState();
    }
    async function signInWithPassword(p: Page, email: string, password: string) {
      await p.goto(`${base}/sign-in`);
      await p.fill('#email', email);
      await p.fill('#password', password);
      await submit(p, '/sign-in');
    }
    async function signInWithCode(p: Page, email: string, password: string) {
      await signInWithPassword(p, email, password);
      expect(await heading(p)).toBe(w['code.titleEmail']);
      await p.fill('#code', codeIn(await nextMessage(email)));
      await submit(p, '/sign-in/code');
      expect(await heading(p)).toBe(w['home.title']);
    }
    async function signOut(p: Page) {
      await p.locator('form[action="/sign-out"] button').click();
      await p.waitForLoadState();
    }
    /** Presses the page's security key button and waits for the page the form's answer leads to. */
    async function useKey(p: Page) {
      await Promise.all([p.waitForNavigation(), p.locator('#security-key').click()]);
    }
    async function addAuthenticator(p: Page): Promise<Authenticator> {
      const cdp = await p.context().newCDPSession(p);
      await cdp.send('WebAuthn.enable');
      const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: {
          protocol: 'ctap2',
          transport: 'usb',
          hasResidentKey: true,
          hasUserVerification: true,
          isUserVerified: true,
        },
      });
      return { cdp, id: authenticatorId };
    }
    /**
     * axe waits on timers, which never fire while scripts are off (in the main world and in isolated ones). So it
     * checks the page as rendered without scripts, served again to a page with them: the <noscript> message shown
     * as it was, the script left out.
     */
    async function expectAccessibleWithoutScripts(p: Page) {
      const url = p.url();
      const markup = (await p.content())
        .replace(/<noscript>/g, '<div>')
        .replace(/<\/noscript>/g, '</div>')
        .replace(/<script\b[^>]*><\/script>/g, '');
      const twin = await newPage(browser, { locale });
      await twin.route(url, (route) => route.fulfill({ contentType: 'text/html; charset=utf-8', body: markup }));
      await twin.goto(url);
      expect(await twin.locator('main').innerText()).toBe(await p.locator('main').innerText());
      await expectAccessible(twin);
      await twin.context().close();
    }
    const errorText = (p: Page) => p.locator('.error-summary a[href="#security-key"]').innerText();
    const keysOf = async (email: string) =>
      (
        await sql<{
          name: string;
        }>`SELECT k.name FROM webauthn_credentials k JOIN users u ON u.id = k.user_id WHERE u.email_address = ${email} ORDER BY k.created_at`.execute(
          envoi.database.db,
        )
      ).rows.map((r) => r.name);

    it('adds a key from the two-step page, signs in with the password and the key, and the audit log shows it', async () => {
      // The first platform admin, and a person who signs up and confirms their address.
      const a = await newPage(browser, { locale });
      await a.goto(base);
      await a.fill('#name', admin.name);
      await a.fill('#email', admin.email);
      await a.fill('#password', admin.password);
      await submit(a, '/first-run');
      await a.context().close();

      kim = await newPage(browser, { locale });
      await kim.goto(`${base}/sign-up`);
      await kim.fill('#name', user.name);
      await kim.fill('#email', user.email);
      await kim.fill('#password', user.password);
      await submit(kim, '/sign-up');
      await kim.goto(linkIn(await nextMessage(user.email), 'confirm-email'));
      await signInWithCode(kim, user.email, user.password);

      yubikey = await addAuthenticator(kim);
      await kim.goto(`${base}/account/two-step`);
      await kim.check('#method-security_key');
      expect(await kim.locator('#method-security_key-hint').innerText()).toBe(w['twoStep.hint.security_key']);
      await expectAccessible(kim);
      await submit(kim, '/account/two-step');
      expect(await heading(kim)).toBe(w['securityKeys.new.title']);
      await expectAccessible(kim);

      // Nothing entered, then a wrong password: the GC error summary, linked to the fields.
      await submit(kim, '/account/security-keys/new');
      expect(await kim.locator('.error-summary a').allInnerTexts()).toEqual([
        w['securityKeys.name.missing'],
        w['field.password.missing'],
      ]);
      expect(await kim.getAttribute('.error-summary a >> nth=1', 'href')).toBe('#password');
      await expectAccessible(kim);
      await kim.fill('#name', 'YubiKey');
      await kim.fill('#password', 'not my password');
      await submit(kim, '/account/security-keys/new');
      expect(await kim.locator('#password-error').innerText()).toContain(w['field.password.wrong']);
      expect(await kim.inputValue('#name')).toBe('YubiKey');

      await kim.fill('#password', user.password);
      await submit(kim, '/account/security-keys/new');
      expect(await heading(kim)).toBe(w['securityKeys.register.title']!.replace('{name}', 'YubiKey'));
      expect(await kim.locator('#security-key').isVisible()).toBe(true);
      expect(await kim.locator('#security-key').innerText()).toBe(w['securityKeys.register.button']);
      await expectAccessible(kim);

      // The person cancels the browser's dialog: nothing is added, and they can try again at once.
      await kim.evaluate(() => {
        navigator.credentials.create = () =>
          Promise.reject(new DOMException('The operation either timed out or was not allowed.', 'NotAllowedError'));
      });
      await useKey(kim);
      expect(await errorText(kim)).toBe(w['securityKeys.error.cancelled']);
      expect(await kim.title()).toContain(w['error.titlePrefix']);
      await expectAccessible(kim);
      expect(await keysOf(user.email)).toEqual([]);

      await useKey(kim);
      expect(await heading(kim)).toBe(w['securityKeys.title']);
      expect(await kim.locator('.notice').innerText()).toContain(w['securityKeys.notice.added']);
      expect(await kim.locator('table.security-keys tbody tr td').allInnerTexts()).toEqual(
        expect.arrayContaining(['YubiKey', w['securityKeys.neverUsed']]),
      );
      await expectAccessible(kim);
      await kim.goto(`${base}/account`);
      expect(await kim.locator('.summary-list').innerText()).toContain(w['twoStep.method.security_key']);
      await expectAccessible(kim);

      // The same name again, then the same key again.
      await kim.locator('a[href="/account/security-keys"]').click();
      await kim.waitForLoadState();
      await kim.locator('a[href="/account/security-keys/new"]').first().click();
      await kim.waitForLoadState();
      await kim.fill('#name', 'yubikey');
      await kim.fill('#password', user.password);
      await submit(kim, '/account/security-keys/new');
      expect(await kim.locator('#name-error').innerText()).toContain(w['securityKeys.name.taken']);
      await kim.fill('#name', 'Spare');
      await kim.fill('#password', user.password);
      await submit(kim, '/account/security-keys/new');
      await useKey(kim);
      expect(await errorText(kim)).toBe(w['securityKeys.error.alreadyRegistered']);
      await expectAccessible(kim);
      expect(await keysOf(user.email)).toEqual(['YubiKey']);

      // Signing in: the password, then the key.
      await signOut(kim);
      await signInWithPassword(kim, user.email, user.password);
      expect(kim.url()).toBe(`${base}/sign-in/security-key`);
      expect(await heading(kim)).toBe(w['securityKeys.signIn.title']);
      await expectAccessible(kim);
      await useKey(kim);
      expect(await heading(kim)).toBe(w['home.title']);

      // A ceremony answered after its challenge expired is refused; the next one works.
      await signOut(kim);
      await signInWithPassword(kim, user.email, user.password);
      await sql`UPDATE webauthn_challenges SET expires_at = now() - interval '1 minute'`.execute(envoi.database.db);
      await useKey(kim);
      expect(await errorText(kim)).toBe(w['securityKeys.error.expired']);
      await expectAccessible(kim);
      await useKey(kim);
      expect(await heading(kim)).toBe(w['home.title']);

      await kim.goto(`${base}/account/security-keys`);
      expect(await kim.locator('table.security-keys tbody tr td').allInnerTexts()).not.toContain(
        w['securityKeys.neverUsed'],
      );

      // The platform admin sees the key added and the sign-ins with it.
      const audit = await newPage(browser, { locale });
      await signInWithCode(audit, admin.email, admin.password);
      await audit.goto(`${base}/platform-admin/audit?user=${encodeURIComponent(user.email)}`);
      await expectAccessible(audit);
      const log = await audit.locator('tbody').innerText();
      expect(log).toContain(w['audit.event.security-key-added']);
      expect(log).toContain(w['audit.event.sign-in']);
      // Which key, and how the person signed in, in the page's language.
      const line = (label: string, value: string) => `${w['audit.detail.line']!.replace('{label}', label)} ${value}`;
      const details = async (event: string) => {
        await audit.goto(`${base}/platform-admin/audit?user=${encodeURIComponent(user.email)}&event=${event}`);
        return audit.locator('tbody tr').first().locator('td:last-child li').allInnerTexts();
      };
      expect(await details('security-key-added')).toEqual([line(w['audit.detail.securityKey']!, 'YubiKey')]);
      expect(await details('sign-in')).toEqual([
        line(w['audit.detail.method']!, w['twoStep.method.security_key']!),
        line(w['audit.detail.securityKey']!, 'YubiKey'),
      ]);
      await audit.context().close();
      const { entries } = await listAudit(envoi.database.db, {
        user: user.email,
        event: 'sign-in',
        page: 1,
        pageSize: 10,
      });
      expect(entries[0]!.details).toEqual({ method: 'security_key', securityKeyName: 'YubiKey' });
      expect(
        (await listAudit(envoi.database.db, { user: user.email, event: 'security-key-added', page: 1, pageSize: 10 }))
          .entries[0]!.details,
      ).toEqual({ securityKeyName: 'YubiKey' });
    });

    it('refuses a removed key, a counterfeit key and a cancelled ceremony with a clear message, and explains that JavaScript is needed', async () => {
      // A second key, on another authenticator.
      const { credentials: lost } = await yubikey.cdp.send('WebAuthn.getCredentials', { authenticatorId: yubikey.id });
      await yubikey.cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: yubikey.id });
      const backup = await addAuthenticator(kim);
      await kim.goto(`${base}/account/security-keys/new`);
      await kim.fill('#name', 'Backup');
      await kim.fill('#password', user.password);
      await submit(kim, '/account/security-keys/new');
      await useKey(kim);
      expect(await kim.locator('table.security-keys tbody tr td:first-child').allInnerTexts()).toEqual([
        'YubiKey',
        'Backup',
      ]);

      // Someone who found the lost YubiKey (and knows the password) reaches the key page on another computer…
      const finder = await newPage(browser, { locale });
      const found = await addAuthenticator(finder);
      for (const credential of lost)
        await found.cdp.send('WebAuthn.addCredential', { authenticatorId: found.id, credential });
      await signInWithPassword(finder, user.email, user.password);
      expect(await heading(finder)).toBe(w['securityKeys.signIn.title']);

      // …while Kim removes it, confirming with her password.
      await kim.locator('table.security-keys tbody tr:first-child a').click();
      await kim.waitForLoadState();
      expect(await heading(kim)).toBe(w['securityKeys.removeKey.title']!.replace('{name}', 'YubiKey'));
      await expectAccessible(kim);
      const removeAction = new URL(kim.url()).pathname;
      await kim.fill('#password', 'not my password');
      await submit(kim, removeAction);
      expect(await kim.locator('#password-error').innerText()).toContain(w['field.password.wrong']);
      await expectAccessible(kim);
      await kim.fill('#password', user.password);
      await submit(kim, removeAction);
      expect(await kim.locator('.notice').innerText()).toContain(w['securityKeys.notice.removed']);
      expect(await keysOf(user.email)).toEqual(['Backup']);

      await useKey(finder);
      expect(await errorText(finder)).toBe(w['securityKeys.error.unknownKey']);
      await expectAccessible(finder);
      expect(await finder.locator('main').innerText()).toContain(w['securityKeys.signIn.lost']);

      // A counterfeit of the Backup key (its credential id, another private key) is refused too.
      const [genuine] = (await backup.cdp.send('WebAuthn.getCredentials', { authenticatorId: backup.id })).credentials;
      const forgedKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
        .privateKey.export({ format: 'der', type: 'pkcs8' })
        .toString('base64');
      await found.cdp.send('WebAuthn.addCredential', {
        authenticatorId: found.id,
        credential: {
          credentialId: genuine!.credentialId,
          isResidentCredential: false,
          rpId: 'localhost',
          privateKey: forgedKey,
          signCount: 100,
        },
      });
      await useKey(finder);
      expect(await errorText(finder)).toBe(w['securityKeys.error.failed']);
      await expectAccessible(finder);
      const failures = await listAudit(envoi.database.db, {
        user: user.email,
        event: 'second-factor-failed',
        page: 1,
        pageSize: 10,
      });
      expect(failures.entries).toHaveLength(2);

      // The browser's dialog cancelled.
      await finder.evaluate(() => {
        navigator.credentials.get = () =>
          Promise.reject(new DOMException('The operation either timed out or was not allowed.', 'NotAllowedError'));
      });
      await useKey(finder);
      expect(await errorText(finder)).toBe(w['securityKeys.error.signInCancelled']);
      await expectAccessible(finder);
      expect(await heading(finder)).toBe(w['securityKeys.signIn.title']);
      await finder.context().close();

      // The last key cannot be removed while keys are the way to sign in.
      await kim.locator('table.security-keys tbody tr:first-child a').click();
      await kim.waitForLoadState();
      expect(await kim.locator('.notice').innerText()).toContain(w['securityKeys.removeKey.only']);
      expect(await kim.locator('form[action$="/remove"]').count()).toBe(0);
      await expectAccessible(kim);

      // Without JavaScript the page says what is needed and what to do instead.
      const noJs = await newPage(browser, { locale, javaScriptEnabled: false });
      await signInWithPassword(noJs, user.email, user.password);
      expect(await heading(noJs)).toBe(w['securityKeys.signIn.title']);
      expect(await noJs.locator('main').innerText()).toContain(w['securityKeys.needsJs.signIn']);
      expect(await noJs.locator('#security-key').isVisible()).toBe(false);
      await expectAccessibleWithoutScripts(noJs);
      await noJs.context().close();
    });

    it('lets a platform admin reset the two-step verification of someone who lost their keys', async () => {
      const a = await newPage(browser, { locale });
      await signInWithCode(a, admin.email, admin.password);
      await a.goto(`${base}/platform-admin/users`);
      const row = a.locator(`tr:has-text("${user.email}")`);
      expect(await row.innerText()).toContain(w['twoStep.method.security_key']);
      await row.locator('form[action$="/reset-two-step"] button').click();
      await a.waitForLoadState();
      expect(await a.locator('.notice').innerText()).toContain(w['platformAdmin.users.done.two-step-reset']);
      await expectAccessible(a);
      await a.context().close();
      expect(await keysOf(user.email)).toEqual([]);

      // Back to codes by email; choosing security keys again starts from adding one.
      const p = await newPage(browser, { locale });
      await signInWithCode(p, user.email, user.password);
      await p.goto(`${base}/account/security-keys`);
      expect(await heading(p)).toBe(w['securityKeys.new.title']);
      await addAuthenticator(p);
      await p.fill('#name', 'Laptop');
      await p.fill('#password', user.password);
      await submit(p, '/account/security-keys/new');
      await useKey(p);
      expect(await keysOf(user.email)).toEqual(['Laptop']);

      // Choosing another way to sign in removes the keys, as the page says beforehand.
      await p.goto(`${base}/account/two-step`);
      expect(await p.locator('main').innerText()).toContain(w['twoStep.keysRemoved']);
      expect(await p.isChecked('#method-security_key')).toBe(true);
      await p.check('#method');
      await p.fill('#password', user.password);
      await submit(p, '/account/two-step');
      expect(await p.locator('.notice').innerText()).toContain(w['notice.two-step-changed']);
      expect(await keysOf(user.email)).toEqual([]);
      const removed = await listAudit(envoi.database.db, {
        user: user.email,
        event: 'security-key-removed',
        page: 1,
        pageSize: 10,
      });
      expect(removed.entries.map((e) => e.details)).toEqual([
        { securityKeyName: 'Laptop' },
        { securityKeyName: 'YubiKey' },
      ]);
      await p.context().close();
      await kim.context().close();
    });
  });
}
