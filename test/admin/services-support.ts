/**
 * What the services browser tests share: a running Envoi with its delivery worker, Chromium, the words of one
 * language, reading Envoi's own emails from the sink outbox, and signing in (first admin, then anyone).
 */
import { expect } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startEnvoi, type RunningEnvoi } from '../support/envoi.ts';
import { expectAccessible, launchBrowser, newPage } from '../support/browser.ts';
import { waitFor } from '../delivery/fixtures.ts';
import { latestOutbox, type OutboxEntry } from '../../src/notify/delivery/outbox.ts';
import { SYSTEM_SERVICE_ID } from '../../src/platform/accounts/account-messages.ts';
import { MESSAGES } from '../../src/platform/ui/i18n/index.ts';

export interface UiHarness {
  envoi: RunningEnvoi;
  browser: Browser;
  lang: 'en' | 'fr';
  /** Every word of the UI in the test's language. */
  w: Record<string, string>;
  page(): Promise<Page>;
  heading(p: Page): Promise<string>;
  /** Clicks the submit button of the form posting to `action` and waits for the next page. */
  submit(p: Page, action: string): Promise<void>;
  /** The next message Envoi sent to `to` that this test has not read yet. */
  nextMessage(to: string): Promise<OutboxEntry>;
  linkIn(m: OutboxEntry, path: string): string;
  signIn(p: Page, email: string, password: string, opts?: { expectHome?: boolean }): Promise<void>;
  /** Creates the first platform admin on the first-run page and signs in; returns the signed-in page. */
  firstAdmin(admin: { name: string; email: string; password: string }): Promise<Page>;
  stop(): Promise<void>;
}

export async function startUi(lang: 'en' | 'fr'): Promise<UiHarness> {
  const envoi = await startEnvoi({ worker: true });
  const browser = await launchBrowser();
  const seen = new Set<number>();
  const w = MESSAGES[lang];
  const h: UiHarness = {
    envoi,
    browser,
    lang,
    w,
    page: () => newPage(browser, { locale: lang === 'fr' ? 'fr-CA' : 'en-CA' }),
    heading: async (p) => (await p.locator('h1').innerText()).trim(),
    async submit(p, action) {
      await p.locator(`form[action="${action}"] button[type=submit]`).first().click();
      await p.waitForLoadState();
    },
    nextMessage: (to) =>
      waitFor(async () => {
        const entries = await latestOutbox(envoi.database.db, { limit: 200, serviceId: SYSTEM_SERVICE_ID });
        const found = entries.reverse().find((e) => e.recipient.toLowerCase() === to.toLowerCase() && !seen.has(e.id));
        if (found) seen.add(found.id);
        return found;
      }, `a message to ${to}`),
    linkIn: (m, path) => new RegExp(`https?://[^\\s)\\]]+/${path}/[\\w-]+`).exec(m.body)![0],
    async signIn(p, email, password) {
      await p.goto(`${envoi.url}/sign-in`);
      await p.fill('#email', email);
      await p.fill('#password', password);
      await h.submit(p, '/sign-in');
      expect(await h.heading(p)).toBe(w['code.titleEmail']);
      const message = await h.nextMessage(email);
      await p.fill('#code', /\b(\d{6})\b/.exec(message.body)![1]!);
      await h.submit(p, '/sign-in/code');
    },
    async firstAdmin(admin) {
      const p = await h.page();
      await p.goto(envoi.url);
      await p.fill('#name', admin.name);
      await p.fill('#email', admin.email);
      await p.fill('#password', admin.password);
      await h.submit(p, '/first-run');
      await h.signIn(p, admin.email, admin.password);
      expect(await h.heading(p)).toBe(w['home.title']);
      await expectAccessible(p);
      return p;
    },
    async stop() {
      await browser.close();
      await envoi.stop();
    },
  };
  return h;
}
