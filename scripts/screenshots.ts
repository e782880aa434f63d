/**
 * Screenshots of the web UI's main pages for the README, taken in Debian's Chromium (playwright-core) from an
 * Envoi started on an in-memory database with the example bootstrap file and a few messages sent through the API.
 *
 *   npm run screenshots        # writes docs/screenshots/*.png
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { chromium, type Page } from 'playwright-core';
import { startEnvoi, TEST_SECRET_KEY } from '../test/support/envoi.ts';
import { Accounts } from '../src/platform/accounts/accounts.ts';
import { SecretBox } from '../src/platform/secret-box.ts';
import type { BootstrapFile } from '../src/notify/provisioning/bootstrap-file.ts';

const OUT = new URL('../docs/screenshots/', import.meta.url);
const example = JSON.parse(
  readFileSync(new URL('../examples/bootstrap.json', import.meta.url), 'utf8'),
) as BootstrapFile;

const envoi = await startEnvoi({ worker: true, bootstrap: example });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
try {
  const service = envoi.provisioned.services[0]!;
  const key = service.api_keys.live!;
  // A few messages, so that the dashboard and the activity page have something to show.
  for (const [i, name] of ['Alex', 'Sam', 'Jo', 'Kim', 'Lee'].entries()) {
    const to = i % 2 === 0 ? 'alex.tremblay@example.gc.ca' : 'sam.okafor@example.gc.ca';
    const response = await fetch(`${envoi.url}/v2/notifications/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `ApiKey-v1 ${key}` },
      body: JSON.stringify({
        email_address: to,
        template_id: service.templates.welcome,
        personalisation: { 'first name': name, 'reference number': `A-10${i}`, 'has documents': 'yes' },
      }),
    });
    if (response.status !== 201)
      throw new Error(`sending a sample message: ${response.status} ${await response.text()}`);
  }
  await new Promise((resolve) => setTimeout(resolve, 1500));

  // Alex, a team member of the example service, signed in (as a platform administrator too, for the admin pages).
  const db = envoi.database.db;
  const user = await db
    .selectFrom('users')
    .select('id')
    .where('email_address', '=', 'alex.tremblay@example.gc.ca')
    .executeTakeFirstOrThrow();
  await db
    .updateTable('users')
    .set({ state: 'active', email_confirmed_at: new Date(), platform_admin: true })
    .where('id', '=', user.id)
    .execute();
  const accounts = new Accounts(db, new SecretBox(TEST_SECRET_KEY), { signupDomains: [] });
  // The Government of Canada signature on the service's emails, and a suppression list with something on it.
  await db.updateTable('services').set({ email_branding: 'gc' }).where('id', '=', service.id).execute();
  await db
    .insertInto('suppressions')
    .values([
      { service_id: service.id, channel: 'email', recipient: 'old.address@example.gc.ca', reason: 'hard-bounce' },
      { service_id: service.id, channel: 'sms', recipient: '+16135550147', reason: 'opted-out' },
    ])
    .execute();

  async function page(locale: 'en-CA' | 'fr-CA', signedIn: boolean): Promise<Page> {
    // Tall enough for every page: Chromium does not paint a frame that was below the viewport when it loaded, so a
    // full-page capture would show the email preview blank.
    const context = await browser.newContext({ locale, viewport: { width: 1280, height: 2400 } });
    if (signedIn) {
      const token = await accounts.createSession(user.id, 'signed-in', { ip: null, userAgent: null });
      await context.addCookies([{ name: 'envoi_session', value: token, url: envoi.url }]);
    }
    return context.newPage();
  }

  mkdirSync(OUT, { recursive: true });
  const shots: Array<[string, string, 'en-CA' | 'fr-CA', boolean]> = [
    ['sign-in', '/sign-in', 'en-CA', false],
    ['dashboard', `/services/${service.id}`, 'en-CA', true],
    ['templates', `/services/${service.id}/templates`, 'en-CA', true],
    [
      'template-preview',
      `/services/${service.id}/templates/${service.templates.welcome}/preview?p.first%20name=Alex&p.reference%20number=A-1234&p.has%20documents=yes`,
      'en-CA',
      true,
    ],
    ['send-one', `/services/${service.id}/send/${service.templates.welcome}`, 'en-CA', true],
    ['activity', `/services/${service.id}/activity`, 'en-CA', true],
    ['suppressions', `/services/${service.id}/suppressions`, 'en-CA', true],
    ['team', `/services/${service.id}/team`, 'en-CA', true],
    ['security-keys', '/account/two-step', 'en-CA', true],
    ['api-keys', `/services/${service.id}/api`, 'en-CA', true],
    ['tableau-de-bord', `/services/${service.id}`, 'fr-CA', true],
    ['gabarit-sms', `/services/${service.id}/templates/${service.templates.code}`, 'fr-CA', true],
    ['platform-admin', '/platform-admin/services', 'en-CA', true],
  ];
  for (const [name, path, locale, signedIn] of shots) {
    const p = await page(locale, signedIn);
    const response = await p.goto(`${envoi.url}${path}`);
    if (response?.status() !== 200) throw new Error(`${path} answered ${response?.status()}`);
    await p.waitForLoadState('networkidle');
    await p.screenshot({ path: new URL(`${name}.png`, OUT).pathname, fullPage: true });
    await p.context().close();
    console.log(`docs/screenshots/${name}.png`);
  }
} finally {
  await browser.close();
  await envoi.stop();
}
