/**
 * Every link Envoi gives out comes from configuration (ENVOI_PUBLIC_URL, else http://HOST:PORT), never from the
 * request: a client sending `Host: evil.example` and `X-Forwarded-Host: evil.example` still gets, and mails to the
 * victim, links to Envoi's own origin only. Run with ENVOI_PUBLIC_URL unset, the default that was exposed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEnvoi, type RunningEnvoi } from '../support/envoi.ts';
import { systemInbox } from '../support/system-mail.ts';
import { signInFirstAdmin, webClient, type WebClient } from '../support/web-client.ts';
import { bearer } from '../api/helpers.ts';
import { loadConfig } from '../../src/platform/config.ts';

const SERVICE_ID = '44444444-4444-4444-8444-444444444444';
const ADMIN = { name: 'Ada Admin', email: 'ada.admin@tbs-sct.gc.ca', password: 'a fine long passphrase' };
const FORGED = {
  host: 'evil.example',
  'x-forwarded-host': 'evil.example',
  'x-forwarded-proto': 'https',
  forwarded: 'host=evil.example;proto=https',
};

/** Every http(s) URL in a text. */
const urlsIn = (text: string) => text.match(/https?:\/\/[^\s)\]"'<>]+/g) ?? [];

describe('links with a forged Host', () => {
  let envoi: RunningEnvoi;
  let web: WebClient;
  let inbox: ReturnType<typeof systemInbox>;

  beforeAll(async () => {
    envoi = await startEnvoi({
      worker: true,
      bootstrap: {
        services: [
          {
            name: 'Links service',
            id: SERVICE_ID,
            restricted: false,
            permissions: ['email'],
            templates: [{ key: 'email', type: 'email', versions: [{ name: 'E', subject: 'Hi', content: 'Hello' }] }],
            api_keys: [{ name: 'live', type: 'normal' }],
          },
        ],
      },
    });
    inbox = systemInbox(() => envoi.database.db);
    web = webClient(envoi.url, FORGED);
    await signInFirstAdmin(web, ADMIN, inbox.next);
  });
  afterAll(() => envoi?.stop());

  /** The message's links all start with Envoi's origin, and at least one goes to `path`. */
  function expectOwnLinks(body: string, path: string) {
    const urls = urlsIn(body);
    expect(urls.some((u) => u.startsWith(`${envoi.url}/${path}/`))).toBe(true);
    for (const u of urls) expect(u).not.toContain('evil.example');
    expect(body).not.toContain('evil.example');
  }

  it('mails a password reset link to the configured origin', async () => {
    const anon = webClient(envoi.url, FORGED);
    await anon.get('/forgot-password');
    expect((await anon.post('/forgot-password', { email: ADMIN.email })).status).toBe(200);
    expectOwnLinks((await inbox.next(ADMIN.email)).body, 'reset-password');
  });

  it('mails sign-up and sign-in confirmation links to the configured origin', async () => {
    const anon = webClient(envoi.url, FORGED);
    const newcomer = { name: 'New Comer', email: 'new.comer@gc.ca', password: 'another long passphrase' };
    await anon.get('/sign-up');
    expect((await anon.post('/sign-up', newcomer)).status).toBe(200);
    expectOwnLinks((await inbox.next(newcomer.email)).body, 'confirm-email');
    // Signing in before confirming sends the link again.
    await anon.get('/sign-in');
    expect((await anon.post('/sign-in', { email: newcomer.email, password: newcomer.password })).status).toBe(400);
    expectOwnLinks((await inbox.next(newcomer.email)).body, 'confirm-email');
  });

  it('mails an invitation link to the configured origin', async () => {
    await web.get(`/services/${SERVICE_ID}/team/invite`);
    const invited = await web.post(`/services/${SERVICE_ID}/team/invite`, {
      email: 'invited.person@gc.ca',
      permissions: 'manage_templates',
    });
    expect(invited.status).toBe(303);
    expectOwnLinks((await inbox.next('invited.person@gc.ca')).body, 'invitation');
  });

  it('answers the v2 API with uris under the configured origin', async () => {
    const [service] = envoi.provisioned.services;
    const key = service!.api_keys.live!;
    const api = webClient(envoi.url, { ...FORGED, authorization: bearer(key) });
    const sent = await api.json('POST', '/v2/notifications/email', {
      email_address: 'someone@example.com',
      template_id: service!.templates.email,
    });
    expect(sent.status).toBe(201);
    const created = JSON.parse(sent.body);
    expect(created.uri).toBe(`${envoi.url}/v2/notifications/${created.id}`);
    expect(created.template.uri.startsWith(`${envoi.url}/`)).toBe(true);
    const listed = await api.get('/v2/notifications');
    expect(listed.status).toBe(200);
    for (const u of urlsIn(listed.body)) expect(u.startsWith(`${envoi.url}/`)).toBe(true);
    expect(listed.body).not.toContain('evil.example');
  });
});

describe('the public URL setting', () => {
  it('is ENVOI_PUBLIC_URL without its trailing slash', () => {
    const config = loadConfig({ ENVOI_PUBLIC_URL: 'https://notify.example.ca/' });
    expect(config.publicUrl).toBe('https://notify.example.ca');
    expect(config.publicUrlSet).toBe(true);
  });

  it('defaults to HOST and PORT, a wildcard interface being reached as localhost', () => {
    expect(loadConfig({}).publicUrl).toBe('http://127.0.0.1:6011');
    expect(loadConfig({ HOST: '0.0.0.0', PORT: '8080' }).publicUrl).toBe('http://localhost:8080');
    expect(loadConfig({ HOST: '::', PORT: '8080' }).publicUrl).toBe('http://localhost:8080');
    expect(loadConfig({ HOST: '::1' }).publicUrl).toBe('http://[::1]:6011');
    expect(loadConfig({ HOST: 'envoi.internal' }).publicUrl).toBe('http://envoi.internal:6011');
    expect(loadConfig({}).publicUrlSet).toBe(false);
  });
});
