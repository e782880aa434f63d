/**
 * What the template and sending browser tests share: a running Envoi (with its delivery worker and sink providers)
 * and one trial service, whose member is signed in straight into a browser context (a session made for them, as if
 * they had passed the second step: the sign-in journey itself is journeys.test.ts's).
 */
import type { Browser, Locator, Page } from 'playwright-core';
import { startEnvoi, type RunningEnvoi } from '../support/envoi.ts';
import type { BootstrapService } from '../../src/notify/provisioning/bootstrap-file.ts';
import enTemplates from '../../src/platform/ui/i18n/templates.en.json' with { type: 'json' };
import frTemplates from '../../src/platform/ui/i18n/templates.fr.json' with { type: 'json' };
import enSend from '../../src/platform/ui/i18n/send.en.json' with { type: 'json' };
import frSend from '../../src/platform/ui/i18n/send.fr.json' with { type: 'json' };
import { memberSession } from '../support/sessions.ts';

export const MEMBER = { name: 'Alex Sender', email: 'alex.sender@tbs-sct.gc.ca' };
export const GUESTS = ['guest.one@example.gc.ca', 'guest.two@example.gc.ca'];

export const WORDS = {
  en: { ...enTemplates, ...enSend } as Record<string, string>,
  fr: { ...frTemplates, ...frSend } as Record<string, string>,
};

/** A sentence of the UI with its {parameters} filled in. */
export function words(lang: 'en' | 'fr', key: string, params: Record<string, string | number> = {}): string {
  const text = WORDS[lang][key];
  if (text === undefined) throw new Error(`no words for ${key}`);
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

export interface TemplatesWorld {
  envoi: RunningEnvoi;
  serviceId: string;
  templates: Record<string, string>;
  /** A new browser context signed in as the service's member. */
  page(locale: 'en-CA' | 'fr-CA', opts?: { javaScriptEnabled?: boolean }): Promise<Page>;
}

export async function startTemplatesWorld(
  browser: Browser,
  templates: BootstrapService['templates'] = [],
): Promise<TemplatesWorld> {
  const envoi = await startEnvoi({
    worker: true,
    bootstrap: {
      services: [{ name: 'Benefits Office', restricted: true, team: [MEMBER], guest_list: GUESTS, templates }],
    },
  });
  const db = envoi.database.db;
  const { id: serviceId, templates: templateIds } = envoi.provisioned.services[0]!;
  return {
    envoi,
    serviceId,
    templates: templateIds,
    async page(locale, opts = {}) {
      const token = await memberSession(db, MEMBER.email);
      const context = await browser.newContext({ locale, javaScriptEnabled: opts.javaScriptEnabled ?? true });
      await context.addCookies([{ name: 'envoi_session', value: token, url: envoi.url }]);
      return context.newPage();
    },
  };
}

/** Clicks the submit button of the form posting to `action` (or the first form's) and waits for the next page. */
export async function submit(page: Page, selector = 'main form button[type=submit]'): Promise<void> {
  await Promise.all([page.waitForNavigation(), page.locator(selector).first().click()]);
}

/** Follows a link (or presses a button that navigates) and waits for the next page. */
export async function follow(page: Page, target: Locator): Promise<void> {
  await Promise.all([page.waitForNavigation(), target.click()]);
}
