/**
 * The Government of Canada signature for email headers, as PNG: email clients (Gmail, Outlook) do not show SVG.
 * Rasterises the GC Design System's official artwork (English-first and French-first, from the package
 * @cdssnc/gcds-components, whose tarball alone is fetched from the npm registry: the project does not depend on
 * it for two drawings) in Debian's Chromium, coloured with the design system's tokens, at twice its display size for sharp high-density
 * screens, on white: a transparent image would lose its black wordmark in a dark-mode mail client.
 *
 *   npm run gc-signature        # writes src/notify/template-language/assets/gc-signature-{en,fr}.png
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser } from '../test/support/browser.ts';
import { GC_SIGNATURE_DISPLAY } from '../src/notify/settings/email-branding.ts';

const require = createRequire(import.meta.url);
const PACKAGE = '@cdssnc/gcds-components@0.47.0';
const ASSETS = 'package/dist/collection/components/gcds-signature/assets';
const OUT = new URL('../src/notify/template-language/assets/', import.meta.url);
const tokens = readFileSync(require.resolve('@cdssnc/gcds-tokens/build/web/css/tokens.css'), 'utf8');

/** The two SVGs, taken out of the package's tarball. */
function signatureSvgs(): Record<'en' | 'fr', string> {
  const dir = mkdtempSync(join(tmpdir(), 'gc-signature-'));
  try {
    const tarball = execFileSync('npm', ['pack', PACKAGE, '--silent', '--pack-destination', dir], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .at(-1)!;
    const files = { en: `${ASSETS}/sig-blk-en.svg`, fr: `${ASSETS}/sig-blk-fr.svg` };
    execFileSync('tar', ['-xzf', join(dir, tarball), '-C', dir, files.en, files.fr]);
    return { en: readFileSync(join(dir, files.en), 'utf8'), fr: readFileSync(join(dir, files.fr), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const svgs = signatureSvgs();
const browser = await launchBrowser();
try {
  const context = await browser.newContext({ deviceScaleFactor: 2 });
  const page = await context.newPage();
  mkdirSync(OUT, { recursive: true });
  for (const lang of ['en', 'fr'] as const) {
    // Inline, not as <img>: the artwork's colours come from classes that a stylesheet fills.
    const svg = svgs[lang];
    await page.setContent(`<!doctype html><html><head><style>${tokens}
      html, body { margin: 0; background: #ffffff; }
      svg { display: block; width: ${GC_SIGNATURE_DISPLAY.width}px; height: ${GC_SIGNATURE_DISPLAY.height}px; }
      .fip_flag { fill: var(--gcds-signature-color-flag); }
      .fip_text { fill: var(--gcds-signature-color-text); }
    </style></head><body>${svg}</body></html>`);
    const file = new URL(`gc-signature-${lang}.png`, OUT);
    await page.locator('svg').screenshot({ path: file.pathname, omitBackground: false });
    console.log(`wrote ${file.pathname}`);
  }
} finally {
  await browser.close();
}
