/**
 * Browser tests drive Debian's Chromium (/usr/bin/chromium, never a downloaded build) with playwright-core, and
 * check every page with axe-core for WCAG 2.1 A and AA. Where Chromium is not installed, suites use
 * `describeWithBrowser`, which skips them with a message saying why, so `npm test` passes on a machine with
 * only Node.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect } from 'vitest';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM_PATH);

const require = createRequire(import.meta.url);

/** `describe` when Chromium is there; otherwise a skipped suite named after the reason. */
export const describeWithBrowser: typeof describe.skip = hasChromium
  ? describe
  : (((name: string, ...rest: unknown[]) =>
      (describe.skip as (n: string, ...r: unknown[]) => void)(
        `${name} (skipped: no Chromium at ${CHROMIUM_PATH}; apt-get install chromium)`,
        ...rest,
      )) as typeof describe.skip);

export async function launchBrowser(): Promise<Browser> {
  // Playwright gives each launch a fresh temporary profile (user data dir) of its own.
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A page in a new context (its own cookies), in `locale`, so Accept-Language is what a browser in it sends. */
export async function newPage(
  browser: Browser,
  opts: { locale?: 'en-CA' | 'fr-CA'; javaScriptEnabled?: boolean } = {},
): Promise<Page> {
  const context = await browser.newContext({
    locale: opts.locale ?? 'en-CA',
    javaScriptEnabled: opts.javaScriptEnabled ?? true,
  });
  return context.newPage();
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/**
 * Runs axe-core (WCAG 2.1 A and AA rules) on the page as it is now and fails on any violation, listing each
 * with the elements concerned. axe runs as a script in the page, so the page's context must allow JavaScript:
 * in a journey made with JavaScript off, check the same pages in a context with it on (the server sends the
 * same HTML either way).
 */
export async function expectAccessible(page: Page): Promise<void> {
  const source = require('axe-core').source as string;
  const violations = (await page.evaluate(
    `(async () => { ${source}; const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }); return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })) })); })()`,
  )) as AxeViolation[];
  const report = violations
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help}\n${v.nodes.map((n) => `    ${n.target.join(' ')}: ${n.failureSummary ?? ''}`).join('\n')}`,
    )
    .join('\n');
  expect(report, `axe found violations on ${page.url()}`).toBe('');
}

/** Presses Tab until the focused element matches `selector` (fails after `maxTabs`): how a keyboard user gets there. */
export async function tabTo(page: Page, selector: string, maxTabs = 40): Promise<void> {
  for (let i = 0; i < maxTabs; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
  }
  throw new Error(`pressing Tab ${maxTabs} times never reached ${selector} on ${page.url()}`);
}

/** The lines of an audit row's details as a sighted reader sees them (without the words only screen readers get). */
export async function auditDetailLines(row: Locator): Promise<string[]> {
  return row.locator('td:last-child li').evaluateAll((items) =>
    items.map((li) => {
      const seen = li.cloneNode(true) as HTMLElement;
      for (const hidden of seen.querySelectorAll('.visually-hidden')) hidden.remove();
      return (seen.textContent ?? '').replace(/[ \t\n]+/g, ' ').trim();
    }),
  );
}
