/**
 * Whose X-Forwarded-For Envoi believes (TRUST_PROXY): by default nobody's, so a client rotating the header is still
 * one address to the sign-in throttle and the audit log; with proxies configured, the address they forward counts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startEnvoi, type RunningEnvoi } from '../support/envoi.ts';
import { webClient } from '../support/web-client.ts';
import { ConfigError, loadConfig } from '../../src/platform/config.ts';
import { listAuditEvents } from '../../src/platform/repositories/audit-events.ts';

/** 110 password checks (argon2) take a while on a busy machine: room for them, not a limit on speed. */
const SLOW = 300_000;

const ADMIN = { name: 'Ada Admin', email: 'ada.admin@tbs-sct.gc.ca', password: 'a fine long passphrase' };

let envoi: RunningEnvoi | undefined;
afterEach(async () => {
  await envoi?.stop();
  envoi = undefined;
});

/** 110 failed sign-ins, each claiming another address in X-Forwarded-For; the statuses answered. */
async function rotatingSignIns(url: string): Promise<number[]> {
  const web = webClient(url);
  // The first-run page: no account exists, and its form gives the visitor a CSRF token.
  await web.get('/');
  const statuses: number[] = [];
  for (let i = 0; i < 110; i++) {
    const forged = { 'x-forwarded-for': `198.51.100.${i + 1}` };
    const res = await web.post(
      '/sign-in',
      { email: 'nobody@gc.ca', password: 'not the password' },
      { headers: forged },
    );
    statuses.push(res.status);
  }
  return statuses;
}

/** The address the audit log stored for a failed sign-in claiming to come from 203.0.113.9. */
async function auditedAddress(running: RunningEnvoi): Promise<string | null> {
  const web = webClient(running.url);
  await web.get('/');
  expect((await web.post('/first-run', ADMIN)).status).toBe(303);
  await web.get('/sign-in');
  const failed = await web.post(
    '/sign-in',
    { email: ADMIN.email, password: 'not the password' },
    { headers: { 'x-forwarded-for': '203.0.113.9' } },
  );
  expect(failed.status).toBe(400);
  const [event] = await listAuditEvents(running.database.db, { event: 'sign-in-failed', limit: 1, offset: 0 });
  return event!.ip;
}

describe('X-Forwarded-For by default', () => {
  it(
    'does not let a client escape the sign-in throttle by rotating the header',
    async () => {
      envoi = await startEnvoi();
      const statuses = await rotatingSignIns(envoi.url);
      expect(statuses.slice(0, 100).every((s) => s === 400)).toBe(true);
      expect(statuses.slice(100).every((s) => s === 429)).toBe(true);
    },
    SLOW,
  );

  it('is not what the audit log stores', async () => {
    envoi = await startEnvoi();
    expect(await auditedAddress(envoi)).toBe('127.0.0.1');
  });
});

describe('X-Forwarded-For from a trusted proxy', () => {
  it(
    'is the address throttled and audited with one proxy in front (TRUST_PROXY=1)',
    async () => {
      envoi = await startEnvoi({ env: { TRUST_PROXY: '1' } });
      const statuses = await rotatingSignIns(envoi.url);
      expect(statuses.every((s) => s === 400)).toBe(true);
      expect(await auditedAddress(envoi)).toBe('203.0.113.9');
    },
    SLOW,
  );

  it('is believed from a listed proxy address only', async () => {
    envoi = await startEnvoi({ env: { TRUST_PROXY: '127.0.0.1/32' } });
    expect(await auditedAddress(envoi)).toBe('203.0.113.9');
    await envoi.stop();
    envoi = await startEnvoi({ env: { TRUST_PROXY: '10.0.0.0/8, 192.168.1.10' } });
    expect(await auditedAddress(envoi)).toBe('127.0.0.1');
  });
});

describe('the TRUST_PROXY setting', () => {
  it('is off unless set', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '0' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
  });

  it('takes a hop count, or addresses and CIDR ranges', () => {
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.10,fd00::/8,::1' }).trustProxy).toEqual([
      '10.0.0.0/8',
      '192.168.1.10',
      'fd00::/8',
      '::1',
    ]);
    expect(loadConfig({ TRUST_PROXY: 'loopback,uniquelocal' }).trustProxy).toEqual(['loopback', 'uniquelocal']);
  });

  it('refuses true, saying why', () => {
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(ConfigError);
    expect(() => loadConfig({ TRUST_PROXY: 'TRUE' })).toThrow(/any client/);
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(
      /any client.*X-Forwarded-For|X-Forwarded-For.*any client/,
    );
  });

  it('refuses anything else, naming the setting', () => {
    for (const bad of ['yes', '-1', '1.5', '300.1.1.1', '10.0.0.0/33', 'fd00::/129', '10.0.0.0/8/8', 'proxy.example']) {
      expect(() => loadConfig({ TRUST_PROXY: bad }), bad).toThrow(/^TRUST_PROXY /);
    }
  });
});
