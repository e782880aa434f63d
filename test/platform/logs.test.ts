/**
 * Logs carry no personal data and no one-time token: a whole journey (first admin, sign-in, password reset link,
 * sign-up and confirmation, invitation, activity searches for an address and a number, v2 sends, suppression
 * lookups by address) is run against an app logging at info level as `envoi start` does, and every line is
 * scanned for the addresses, numbers and tokens used, in every spelling a URL gives them.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { startEnvoi, type RunningEnvoi } from '../support/envoi.ts';
import { systemInbox } from '../support/system-mail.ts';
import { signInFirstAdmin, webClient, type WebClient } from '../support/web-client.ts';
import { bearer } from '../api/helpers.ts';
import { errorSummary, loggerOptions, redactUrl } from '../../src/platform/log-redaction.ts';

const SERVICE_ID = '55555555-5555-4555-8555-555555555555';
const ADMIN = { name: 'Ada Admin', email: 'ada.admin@tbs-sct.gc.ca', password: 'a fine long passphrase' };
const NEWCOMER = { name: 'New Comer', email: 'new.comer@gc.ca', password: 'another long passphrase' };
const INVITED = 'invited.person@gc.ca';
const RECIPIENT = 'jane.public@example.com';
const PHONE = '+16135550177';

describe('logs of a full journey', () => {
  const lines: string[] = [];
  const secrets = new Set<string>([ADMIN.email, NEWCOMER.email, INVITED, RECIPIENT, PHONE, '6135550177']);
  let envoi: RunningEnvoi;
  let web: WebClient;
  let inbox: ReturnType<typeof systemInbox>;

  /** The token at the end of the link to `path` in the next message to `to`, noted as a secret. */
  async function tokenMailed(to: string, path: string): Promise<string> {
    const body = (await inbox.next(to)).body;
    const token = new RegExp(`/${path}/([\\w-]+)`).exec(body)![1]!;
    secrets.add(token);
    return token;
  }

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    envoi = await startEnvoi({
      worker: true,
      logger: pino(loggerOptions('info'), sink),
      bootstrap: {
        services: [
          {
            name: 'Logged service',
            id: SERVICE_ID,
            restricted: false,
            permissions: ['email', 'sms'],
            templates: [
              { key: 'email', type: 'email', versions: [{ name: 'E', subject: 'Hi', content: 'Hello' }] },
              { key: 'sms', type: 'sms', versions: [{ name: 'S', content: 'Hello' }] },
            ],
            api_keys: [{ name: 'live', type: 'normal' }],
          },
        ],
      },
    });
    inbox = systemInbox(() => envoi.database.db);
    web = webClient(envoi.url);
  });
  afterAll(() => envoi?.stop());

  it('signs in, resets a password, signs up, invites, searches and sends', async () => {
    await signInFirstAdmin(web, ADMIN, inbox.next);

    // A sign-up, confirmed from its link.
    const anon = webClient(envoi.url);
    await anon.get('/sign-up');
    expect((await anon.post('/sign-up', NEWCOMER)).status).toBe(200);
    expect((await anon.get(`/confirm-email/${await tokenMailed(NEWCOMER.email, 'confirm-email')}`)).status).toBe(303);

    // An invitation, its link opened.
    await web.get(`/services/${SERVICE_ID}/team/invite`);
    expect(
      (await web.post(`/services/${SERVICE_ID}/team/invite`, { email: INVITED, permissions: 'manage_templates' }))
        .status,
    ).toBe(303);
    expect((await anon.get(`/invitation/${await tokenMailed(INVITED, 'invitation')}`)).status).toBe(200);

    // The v2 API: sends, a lookup by reference, suppressions by address.
    const [service] = envoi.provisioned.services;
    const api = webClient(envoi.url, { authorization: bearer(service!.api_keys.live!) });
    const email = { email_address: RECIPIENT, template_id: service!.templates.email, reference: RECIPIENT };
    expect((await api.json('POST', '/v2/notifications/email', email)).status).toBe(201);
    const sms = { phone_number: PHONE, template_id: service!.templates.sms };
    expect((await api.json('POST', '/v2/notifications/sms', sms)).status).toBe(201);
    expect((await api.get(`/v2/notifications?reference=${encodeURIComponent(RECIPIENT)}`)).status).toBe(200);
    expect((await api.json('DELETE', `/v2/suppressions/email/${RECIPIENT}`, {})).status).toBe(404);
    expect((await api.json('DELETE', `/v2/suppressions/email/${encodeURIComponent(RECIPIENT)}`, {})).status).toBe(404);
    expect((await api.get(`/v2/suppressions?older_than=email:${RECIPIENT}`)).status).toBe(200);

    // Activity searched for the address and the number, as typed and as a form encodes them.
    for (const search of [RECIPIENT, PHONE, '613-555-0177']) {
      const query = new URLSearchParams({ search }).toString();
      expect((await web.get(`/services/${SERVICE_ID}/activity?${query}`)).status).toBe(200);
      expect((await web.get(`/services/${SERVICE_ID}/activity?search=${search}`)).status).toBe(200);
    }
    // Unknown URLs naming a person or a token.
    expect((await anon.get(`/nothing/${RECIPIENT}`)).status).toBe(404);
    expect((await anon.get(`/nothing/${PHONE}`)).status).toBe(404);
    // Last, as it signs the admin out everywhere: a password reset, its link followed and used.
    await anon.get('/forgot-password');
    expect((await anon.post('/forgot-password', { email: ADMIN.email })).status).toBe(200);
    const reset = await tokenMailed(ADMIN.email, 'reset-password');
    expect((await anon.get(`/reset-password/${reset}`)).status).toBe(200);
    expect((await anon.post(`/reset-password/${reset}`, { password: 'a newer long passphrase' })).status).toBe(303);
    expect((await anon.get(`/old/reset-password/${reset}`)).status).toBe(404);
  }, 120_000);

  it('logged each request, and none of the addresses, numbers or tokens it used', () => {
    const requests = lines.filter((l) => l.includes('"incoming request"'));
    expect(requests.length).toBeGreaterThan(30);
    expect(lines.some((l) => l.includes('/reset-password/:token'))).toBe(true);
    const spellings = [...secrets].flatMap((s) => [s, encodeURIComponent(s), s.replace('@', '%40'), s.slice(1)]);
    for (const line of lines) {
      for (const secret of spellings) expect(line, `a log line holds ${secret}`).not.toContain(secret);
    }
  });
});

describe('what a logged request and error say', () => {
  it('shows a route with its ids and small numbers, and hides every other parameter and every query value', () => {
    const id = '11111111-1111-4111-8111-111111111111';
    expect(
      redactUrl(`/services/${id}/activity?search=a%40b.ca&page=2`, '/services/:serviceId/activity', {
        serviceId: id,
      }),
    ).toBe(`/services/${id}/activity?search=[redacted]&page=[redacted]`);
    expect(
      redactUrl('/v2/template/a@b.ca/version/3', '/v2/template/:id/version/:version', { id: 'a@b.ca', version: '3' }),
    ).toBe('/v2/template/:id/version/3');
    const token = 'Ln9h0CJidJ7Jt5YiKzHnR1EG7lNPXRl8PZAEHZeaGo8';
    expect(redactUrl(`/reset-password/${token}`, '/reset-password/:token', { token })).toBe('/reset-password/:token');
    expect(
      redactUrl('/v2/suppressions/email/a%40b.ca', '/v2/suppressions/:channel/:recipient', {
        channel: 'email',
        recipient: 'a@b.ca',
      }),
    ).toBe('/v2/suppressions/email/:recipient');
  });

  it('hides addresses, numbers and tokens in a URL no route matched', () => {
    expect(redactUrl('/x/jane%40example.com/(613) 555-0177/Zx81kQ_aP3-mN0vB2cD9eF')).toBe(
      '/x/[redacted]/[redacted]/[redacted]',
    );
    expect(redactUrl('/v2/received-text-messages/123')).toBe('/v2/received-text-messages/123');
  });

  it('keeps an error to its type, code, message and stack, with addresses and numbers hidden', () => {
    const err = Object.assign(new Error('550 <jane@example.com> refused, call +1 613 555 0177'), {
      code: '23505',
      detail: 'Key (email_address)=(jane@example.com) already exists.',
      body: { email_address: 'jane@example.com' },
    });
    const logged = JSON.stringify(errorSummary(err));
    expect(logged).not.toMatch(/jane|555/);
    expect(logged).toContain('"code":"23505"');
    expect(logged).toContain('"type":"Error"');
    expect(
      JSON.stringify(errorSummary(new Error('at 2026-03-02 in row 11111111-1111-4111-8111-111111111111'))),
    ).toContain('2026-03-02 in row 11111111-1111-4111-8111-111111111111');
  });
});
