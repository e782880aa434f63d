/**
 * The account journeys in a real browser (Debian's Chromium), in English and in French, against a running Envoi
 * whose delivery worker puts the emails it sends (codes, links) in the sink outbox, where the test reads them as a
 * person reads their mailbox. axe checks every page visited.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { generate } from 'otplib';
import { startEnvoi, type RunningEnvoi } from '../support/envoi.ts';
import { describeWithBrowser, expectAccessible, launchBrowser, newPage, tabTo } from '../support/browser.ts';
import { codeIn, linkIn, systemInbox } from '../support/system-mail.ts';
import en from '../../src/platform/ui/i18n/en.json' with { type: 'json' };
import fr from '../../src/platform/ui/i18n/fr.json' with { type: 'json' };

const WORDS = { en, fr } as const;

for (const lang of ['en', 'fr'] as const) {
  const w = WORDS[lang] as Record<string, string>;
  const locale = lang === 'fr' ? 'fr-CA' : 'en-CA';

  describeWithBrowser(`account journeys (${lang})`, () => {
    let envoi: RunningEnvoi;
    let browser: Browser;
    const admin = {
      name: lang === 'fr' ? 'Geneviève Admin' : 'Alex Admin',
      email: `admin.${lang}@tbs-sct.gc.ca`,
      password: 'correct horse battery staple',
    };

    beforeAll(async () => {
      envoi = await startEnvoi({ worker: true });
      browser = await launchBrowser();
    });
    afterAll(async () => {
      await browser?.close();
      await envoi?.stop();
    });

    const inbox = systemInbox(() => envoi.database.db);
    const nextMessage = (to: string) => inbox.next(to);

    async function page(): Promise<Page> {
      return newPage(browser, { locale });
    }
    async function heading(p: Page): Promise<string> {
      return (await p.locator('h1').innerText()).trim();
    }
    async function submit(p: Page, action: string) {
      await p.locator(`form[action="${action}"] button[type=submit]`).first().click();
      await p.waitForLoadState();
    }
    async function signIn(p: Page, email: string, password: string) {
      await p.goto(`${envoi.url}/sign-in`);
      await expectAccessible(p);
      await p.fill('#email', email);
      await p.fill('#password', password);
      await submit(p, '/sign-in');
    }
    async function enterEmailCode(p: Page, email: string) {
      expect(await heading(p)).toBe(w['code.titleEmail']);
      await expectAccessible(p);
      const message = await nextMessage(email);
      expect(message.subject).toBe(lang === 'fr' ? 'Votre code de sécurité Envoi' : 'Your Envoi security code');
      await p.fill('#code', codeIn(message));
      await submit(p, '/sign-in/code');
    }

    it('creates the first platform admin on the first-run page, signs in with an emailed code and signs out', async () => {
      const p = await page();
      await p.goto(envoi.url);
      expect(await heading(p)).toBe(w['firstRun.title']);
      expect(await p.getAttribute('html', 'lang')).toBe(lang);
      await expectAccessible(p);

      // A bad submission shows the GC error summary, linked to the fields.
      await p.fill('#name', admin.name);
      await p.fill('#email', admin.email);
      await p.fill('#password', 'password1');
      await submit(p, '/first-run');
      expect(await p.title()).toContain(w['error.titlePrefix']);
      expect(await p.locator('.error-summary a[href="#password"]').innerText()).toBe(w['field.password.common']);
      expect(await p.getAttribute('#password', 'aria-invalid')).toBe('true');
      await expectAccessible(p);

      await p.fill('#password', admin.password);
      await submit(p, '/first-run');
      expect(await heading(p)).toBe(w['signIn.title']);
      expect(await p.locator('.notice').innerText()).toContain(w['notice.account-created']);

      // The first-run page is gone once an account exists.
      await p.goto(envoi.url);
      expect(await heading(p)).toBe(w['signIn.title']);

      await signIn(p, admin.email, admin.password);
      await enterEmailCode(p, admin.email);
      expect(await heading(p)).toBe(w['home.title']);
      await expectAccessible(p);
      expect(await p.locator('.who').innerText()).toContain(admin.email);

      // The session cookie is HttpOnly and SameSite=Lax.
      const cookie = (await p.context().cookies()).find((c) => c.name === 'envoi_session')!;
      expect(cookie.httpOnly).toBe(true);
      expect(cookie.sameSite).toBe('Lax');

      await p.locator('form[action="/sign-out"] button').click();
      await p.waitForLoadState();
      expect(await p.locator('.notice').innerText()).toContain(w['notice.signed-out']);
      await p.goto(`${envoi.url}/account`);
      expect(await heading(p)).toBe(w['signIn.title']);
      await p.context().close();
    });

    it('lets only allowed email domains sign up, and confirms the address by email', async () => {
      const p = await page();
      await p.goto(`${envoi.url}/sign-up`);
      await expectAccessible(p);
      await p.fill('#name', 'Sam Person');
      await p.fill('#email', 'sam@example.com');
      await p.fill('#password', 'a long enough passphrase');
      await submit(p, '/sign-up');
      expect(await p.locator('#email-error').innerText()).toContain(
        w['signUp.domainNotAllowed']!.replace('{domains}', 'gc.ca, canada.ca'),
      );
      await expectAccessible(p);

      const email = `sam.${lang}@canada.ca`;
      await p.fill('#email', email);
      await p.fill('#password', 'a long enough passphrase');
      await submit(p, '/sign-up');
      expect(await heading(p)).toBe(w['checkEmail.title']);
      await expectAccessible(p);

      // Not confirmed yet: signing in is refused (and a new link is sent).
      await signIn(p, email, 'a long enough passphrase');
      expect(await p.locator('#email-error').innerText()).toContain(w['signIn.unconfirmed']);
      await nextMessage(email);

      const confirmation = await nextMessage(email);
      expect(confirmation.subject).toBe(
        lang === 'fr' ? 'Confirmez votre adresse courriel' : 'Confirm your email address',
      );
      await p.goto(linkIn(confirmation, 'confirm-email'));
      expect(await p.locator('.notice').innerText()).toContain(w['notice.email-confirmed']);
      await expectAccessible(p);

      // A link works once.
      await p.goto(linkIn(confirmation, 'confirm-email'));
      expect(await heading(p)).toBe(w['expiredLink.title']);
      await expectAccessible(p);

      await signIn(p, email, 'a long enough passphrase');
      await enterEmailCode(p, email);
      expect(await heading(p)).toBe(w['home.title']);
      await p.context().close();
    });

    it('locks an account after 10 failed attempts until a platform admin unlocks it', async () => {
      const victim = `locked.${lang}@gc.ca`;
      const p = await page();
      await p.goto(`${envoi.url}/sign-up`);
      await p.fill('#name', 'Lee Locked');
      await p.fill('#email', victim);
      await p.fill('#password', 'the right passphrase');
      await submit(p, '/sign-up');
      await p.goto(linkIn(await nextMessage(victim), 'confirm-email'));

      for (let i = 0; i < 9; i++) {
        await signIn(p, victim, `wrong passphrase ${i}`);
        expect(await p.locator('#email-error').innerText()).toContain(w['signIn.wrong']);
      }
      await signIn(p, victim, 'wrong passphrase 10');
      const [lockedText, afterTime] = w['signIn.locked']!.split('{time}') as [string, string];
      const lockedMessage = await p.locator('#email-error').innerText();
      expect(lockedMessage).toContain(lockedText);
      const lockedUntil = lockedMessage.slice(
        lockedMessage.indexOf(lockedText) + lockedText.length,
        lockedMessage.lastIndexOf(afterTime),
      );
      await expectAccessible(p);
      // Even the right password is refused while locked.
      await signIn(p, victim, 'the right passphrase');
      expect(await p.locator('#email-error').innerText()).toContain(lockedText);

      // A platform admin unlocks it; the audit log shows what happened.
      const a = await page();
      await signIn(a, admin.email, admin.password);
      await enterEmailCode(a, admin.email);
      await a.goto(`${envoi.url}/platform-admin/users`);
      await expectAccessible(a);
      await a.locator(`tr:has-text("${victim}") form[action$="/unlock"] button`).click();
      await a.waitForLoadState();
      expect(await a.locator('.notice').innerText()).toContain(w['platformAdmin.users.done.unlocked']);
      await a.goto(`${envoi.url}/platform-admin/audit?user=${encodeURIComponent(victim)}&event=account-locked`);
      await expectAccessible(a);
      expect(await a.locator('tbody tr').count()).toBe(1);
      expect(await a.locator('tbody tr').innerText()).toContain(w['audit.event.account-locked']);
      // Until when, written as the sign-in page wrote it to the person, in the page's language.
      expect(await a.locator('tbody tr td:last-child li').allInnerTexts()).toEqual([
        `${w['audit.detail.line']!.replace('{label}', w['audit.detail.until']!)} ${lockedUntil}`,
      ]);
      await a.goto(`${envoi.url}/platform-admin/audit?user=${encodeURIComponent(victim)}`);
      expect(await a.locator('tbody').innerText()).toContain(w['audit.event.account-unlocked']);
      await a.context().close();

      await signIn(p, victim, 'the right passphrase');
      await enterEmailCode(p, victim);
      expect(await heading(p)).toBe(w['home.title']);

      // Someone who is not a platform admin cannot see the audit log.
      await p.goto(`${envoi.url}/platform-admin/audit`);
      expect(await heading(p)).toBe(w['forbidden.title']);
      await p.context().close();
    });

    it('resets a forgotten password by email', async () => {
      const p = await page();
      await p.goto(`${envoi.url}/sign-in`);
      await p.locator('a[href="/forgot-password"]').click();
      await p.waitForLoadState();
      await expectAccessible(p);
      await p.fill('#email', admin.email);
      await submit(p, '/forgot-password');
      expect(await heading(p)).toBe(w['checkEmail.title']);

      const message = await nextMessage(admin.email);
      await p.goto(linkIn(message, 'reset-password'));
      expect(await heading(p)).toBe(w['newPassword.resetTitle']);
      await expectAccessible(p);
      await p.fill('#password', 'short');
      await p.locator('form button[type=submit]').click();
      await p.waitForLoadState();
      expect(await p.locator('#password-error').innerText()).toContain(w['field.password.tooShort']);
      await expectAccessible(p);
      admin.password = 'a brand new passphrase';
      await p.fill('#password', admin.password);
      await p.locator('form button[type=submit]').click();
      await p.waitForLoadState();
      expect(await p.locator('.notice').innerText()).toContain(w['notice.password-changed']);

      await signIn(p, admin.email, admin.password);
      await enterEmailCode(p, admin.email);
      expect(await heading(p)).toBe(w['home.title']);
      await p.context().close();
    });

    it('sets up an authenticator app and signs in with it', async () => {
      const p = await page();
      await signIn(p, admin.email, admin.password);
      await enterEmailCode(p, admin.email);
      await p.goto(`${envoi.url}/account`);
      await expectAccessible(p);
      await p.locator('a[href="/account/two-step"]').click();
      await p.waitForLoadState();
      await expectAccessible(p);
      await p.check('#method-totp');
      // A session alone cannot change the second step: the password is asked again.
      await p.fill('#password', 'not the password');
      await submit(p, '/account/two-step');
      expect(await p.locator('#password-error').innerText()).toContain(w['field.password.wrong']);
      await expectAccessible(p);
      await p.goto(`${envoi.url}/account/authenticator`);
      expect(await heading(p)).toBe(w['twoStep.title']);
      await p.check('#method-totp');
      await p.fill('#password', admin.password);
      await submit(p, '/account/two-step');
      expect(await heading(p)).toBe(w['authenticator.title']);
      await expectAccessible(p);
      const secret = (await p.locator('#totp-secret').innerText()).replace(/\s+/g, '');
      await p.fill('#code', '000000');
      await submit(p, '/account/authenticator');
      expect(await p.locator('#code-error').innerText()).toContain(w['field.appCode.wrong']);
      await p.fill('#code', await generate({ secret }));
      await submit(p, '/account/authenticator');
      expect(await p.locator('.notice').innerText()).toContain(w['notice.two-step-changed']);

      await p.locator('form[action="/sign-out"] button').click();
      await p.waitForLoadState();
      await signIn(p, admin.email, admin.password);
      expect(await heading(p)).toBe(w['appCode.title']);
      await expectAccessible(p);
      // The code of the next time step: the one used to confirm the app cannot be used again.
      await p.fill('#code', await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }));
      await submit(p, '/sign-in/app');
      expect(await heading(p)).toBe(w['home.title']);

      // Back to email codes, so the other journeys can sign in.
      await p.goto(`${envoi.url}/account/two-step`);
      await p.check('#method');
      await p.fill('#password', admin.password);
      await submit(p, '/account/two-step');
      expect(await p.locator('.notice').innerText()).toContain(w['notice.two-step-changed']);
      await p.context().close();
    });

    it('refuses a forged POST from another page (CSRF) and keeps the session', async () => {
      const p = await page();
      await signIn(p, admin.email, admin.password);
      await enterEmailCode(p, admin.email);
      const attacker = http.createServer((_req, res) => {
        res.setHeader('content-type', 'text/html');
        res.end(
          `<!doctype html><html lang="en"><title>Win a prize</title><form method="post" action="${envoi.url}/sign-out-everywhere"><input type="hidden" name="_csrf" value="guessed"><button>Claim</button></form></html>`,
        );
      });
      await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
      try {
        await p.goto(`http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`);
        await p.click('button');
        await p.waitForLoadState();
        expect(await heading(p)).toBe(w['csrf.title']);
        await p.goto(`${envoi.url}/account`);
        expect(await heading(p)).toBe(w['account.title']);
      } finally {
        attacker.close();
      }
      // Without any token at all, too.
      const response = await fetch(`${envoi.url}/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'email=a%40gc.ca&password=x',
      });
      expect(response.status).toBe(403);
      await p.context().close();
    });

    it('signs in with the keyboard alone', async () => {
      const p = await page();
      await p.goto(`${envoi.url}/sign-in`);
      // The skip link is the first thing Tab reaches.
      await p.keyboard.press('Tab');
      expect(await p.evaluate(() => document.activeElement?.className)).toBe('skip-link');
      await tabTo(p, '#email');
      await p.keyboard.type(admin.email);
      await tabTo(p, '#password');
      await p.keyboard.type(admin.password);
      await p.keyboard.press('Enter');
      await p.waitForURL(/\/sign-in\/code/);
      await tabTo(p, '#code');
      await p.keyboard.type(codeIn(await nextMessage(admin.email)));
      await p.keyboard.press('Enter');
      await p.waitForURL((url) => url.pathname === '/');
      expect(await heading(p)).toBe(w['home.title']);

      // The language toggle switches and remembers the other language.
      const other = lang === 'en' ? 'fr' : 'en';
      await tabTo(p, '.lang-toggle');
      await p.keyboard.press('Enter');
      await p.waitForLoadState();
      expect(await p.getAttribute('html', 'lang')).toBe(other);
      await p.goto(`${envoi.url}/account`);
      expect(await heading(p)).toBe((WORDS[other] as Record<string, string>)['account.title']);
      await expectAccessible(p);
      await p.context().close();
    });
  });
}
