/**
 * Authentication (reference §4 "Auth errors" and §5): every way a bearer token or a GC `ApiKey-v1` key can be
 * wrong, each with its status and message word for word, and the app-level 404/405 answers that come before auth.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/notify/api/v2/jwt.ts';
import { startEnvoi, type RunningEnvoi } from '../support/envoi.ts';
import { fixture, LIVE_ID, OTHER_ID } from './fixture.ts';
import { bearer, call, expectError, keyParts, nowSeconds } from './helpers.ts';
import { expectSchema } from './response-schemas.ts';

const KEYLESS_ID = '44444444-4444-4444-8444-444444444444';
const ARCHIVED_ID = '55555555-5555-4555-8555-555555555555';

const MESSAGES = {
  noToken: 'Unauthorized: authentication token must be provided',
  notBearer: 'Unauthorized: authentication bearer scheme must be used',
  undecodable:
    'Invalid token: make sure your API token matches the example at https://docs.notifications.service.gov.uk/rest-api.html#authorisation-header',
  noIssuer: 'Invalid token: iss field not provided',
  issuerNotUuid: 'Invalid token: service id is not the right data type',
  serviceNotFound: 'Invalid token: service not found',
  noKeys: 'Invalid token: service has no API keys',
  archived: 'Invalid token: service is archived',
  clock: 'Error: Your system clock must be accurate to within 30 seconds',
  algorithm: 'Invalid token: algorithm used is not HS256',
  keyNotFound: 'Invalid token: API key not found',
  revoked: 'Invalid token: API key revoked',
  fullKey: 'Invalid token: Enter your full API key',
};

let envoi: RunningEnvoi;
let liveKey: string;
let archivedKey: string;

beforeAll(async () => {
  envoi = await startEnvoi({ bootstrap: fixture() });
  liveKey = envoi.provisioned.services[0].api_keys.live;
  const extra = await envoi.bootstrap({
    services: [
      { name: 'Keyless service', id: KEYLESS_ID },
      { name: 'Archived service', id: ARCHIVED_ID, active: false, api_keys: [{ name: 'old', type: 'normal' }] },
    ],
  });
  archivedKey = extra.services[1].api_keys.old;
});

afterAll(async () => {
  await envoi?.stop();
});

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A token with any header and claims, signed with HMAC over `hash` (sha256 unless said). */
function token(header: object, claims: object, secret: string, hash = 'sha256'): string {
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${createHmac(hash, secret).update(input).digest('base64url')}`;
}

/** GET /v2/templates with this Authorization header (or none). */
function get(authorization?: string) {
  return call(envoi.url, 'GET', '/v2/templates', authorization === undefined ? {} : { authorization });
}

async function expectAuthError(authorization: string | undefined, status: 401 | 403, message: string) {
  expectError(await get(authorization), status, 'AuthError', message);
}

describe('Bearer tokens', () => {
  it('accepts a token made as the clients make it', async () => {
    const res = await get(bearer(liveKey));
    expect(res.status).toBe(200);
    expectSchema('templateList', res.body);
  });

  it('accepts the scheme in any letter case', async () => {
    const jwt = bearer(liveKey).slice('Bearer '.length);
    expect((await get(`bearer ${jwt}`)).status).toBe(200);
    expect((await get(`BEARER ${jwt}`)).status).toBe(200);
  });

  it('401 without an Authorization header', async () => {
    await expectAuthError(undefined, 401, MESSAGES.noToken);
  });

  it('401 with another scheme', async () => {
    await expectAuthError('Basic dXNlcjpwYXNzd29yZA==', 401, MESSAGES.notBearer);
    await expectAuthError(`Token ${bearer(liveKey).slice(7)}`, 401, MESSAGES.notBearer);
  });

  it('403 for a token that cannot be decoded', async () => {
    await expectAuthError('Bearer not-a-token', 403, MESSAGES.undecodable);
    await expectAuthError('Bearer aaa.bbb.ccc', 403, MESSAGES.undecodable);
    await expectAuthError(`Bearer ${liveKey}`, 403, MESSAGES.undecodable);
  });

  it('403 for a token without iss', async () => {
    const { secret } = keyParts(liveKey);
    await expectAuthError(
      `Bearer ${token({ typ: 'JWT', alg: 'HS256' }, { iat: nowSeconds() }, secret)}`,
      403,
      MESSAGES.noIssuer,
    );
  });

  it('403 when iss is not a UUID', async () => {
    const { secret } = keyParts(liveKey);
    await expectAuthError(`Bearer ${signToken('not-a-service-id', secret)}`, 403, MESSAGES.issuerNotUuid);
  });

  it('403 when iss names no service', async () => {
    const { secret } = keyParts(liveKey);
    await expectAuthError(`Bearer ${signToken(randomUUID(), secret)}`, 403, MESSAGES.serviceNotFound);
  });

  it('403 when the service has no API keys', async () => {
    await expectAuthError(`Bearer ${signToken(KEYLESS_ID, randomUUID())}`, 403, MESSAGES.noKeys);
  });

  it('403 when the service is archived', async () => {
    await expectAuthError(bearer(archivedKey), 403, MESSAGES.archived);
  });

  it('accepts iat just inside ±30 seconds', async () => {
    expect((await get(bearer(liveKey, nowSeconds() - 28))).status).toBe(200);
    expect((await get(bearer(liveKey, nowSeconds() + 29))).status).toBe(200);
  });

  it('403 when iat is outside ±30 seconds, missing, or not a number', async () => {
    const { serviceId, secret } = keyParts(liveKey);
    await expectAuthError(bearer(liveKey, nowSeconds() - 35), 403, MESSAGES.clock);
    await expectAuthError(bearer(liveKey, nowSeconds() + 35), 403, MESSAGES.clock);
    await expectAuthError(
      `Bearer ${token({ typ: 'JWT', alg: 'HS256' }, { iss: serviceId }, secret)}`,
      403,
      MESSAGES.clock,
    );
    await expectAuthError(
      `Bearer ${token({ typ: 'JWT', alg: 'HS256' }, { iss: serviceId, iat: 'soon' }, secret)}`,
      403,
      MESSAGES.clock,
    );
  });

  it('403 for an algorithm other than HS256: HS512 and none', async () => {
    const { serviceId, secret } = keyParts(liveKey);
    const claims = { iss: serviceId, iat: nowSeconds() };
    await expectAuthError(
      `Bearer ${token({ typ: 'JWT', alg: 'HS512' }, claims, secret, 'sha512')}`,
      403,
      MESSAGES.algorithm,
    );
    await expectAuthError(`Bearer ${b64({ typ: 'JWT', alg: 'none' })}.${b64(claims)}.`, 403, MESSAGES.algorithm);
  });

  it('403 when no key of the service signed the token', async () => {
    await expectAuthError(`Bearer ${signToken(LIVE_ID, randomUUID())}`, 403, MESSAGES.keyNotFound);
  });

  it('403 for a revoked key', async () => {
    await expectAuthError(bearer(envoi.provisioned.services[0].api_keys.revoked), 403, MESSAGES.revoked);
  });

  it('checks the token before anything else: a bad token on a send gets the auth error, not a validation error', async () => {
    const res = await call(envoi.url, 'POST', '/v2/notifications/email', {
      authorization: 'Bearer nope',
      raw: '{not json',
    });
    expectError(res, 403, 'AuthError', MESSAGES.undecodable);
  });
});

describe('GC Notify ApiKey-v1', () => {
  const apiKey = (key: string) => ({ authorization: `ApiKey-v1 ${key}` });

  it('accepts a full key, with or without the gcntfy- prefix, the scheme in any letter case', async () => {
    expect((await call(envoi.url, 'GET', '/v2/templates', apiKey(liveKey))).status).toBe(200);
    expect((await call(envoi.url, 'GET', '/v2/templates', apiKey(`gcntfy-${liveKey}`))).status).toBe(200);
    expect((await call(envoi.url, 'GET', '/v2/templates', { authorization: `apikey-v1 ${liveKey}` })).status).toBe(200);
  });

  it('403 Enter your full API key for a short key', async () => {
    const { secret } = keyParts(liveKey);
    expectError(await call(envoi.url, 'GET', '/v2/templates', apiKey(secret)), 403, 'AuthError', MESSAGES.fullKey);
    expectError(
      await call(envoi.url, 'GET', '/v2/templates', apiKey(liveKey.slice(10))),
      403,
      'AuthError',
      MESSAGES.fullKey,
    );
  });

  it('403 Enter your full API key when the service id in the key is not the key’s service', async () => {
    const { secret } = keyParts(liveKey);
    const res = await call(envoi.url, 'GET', '/v2/templates', apiKey(`live-${OTHER_ID}-${secret}`));
    expectError(res, 403, 'AuthError', MESSAGES.fullKey);
  });

  it('403 API key not found for an unknown secret', async () => {
    const res = await call(envoi.url, 'GET', '/v2/templates', apiKey(`live-${LIVE_ID}-${randomUUID()}`));
    expectError(res, 403, 'AuthError', MESSAGES.keyNotFound);
  });

  it('403 API key revoked for a revoked key', async () => {
    const res = await call(envoi.url, 'GET', '/v2/templates', apiKey(envoi.provisioned.services[0].api_keys.revoked));
    expectError(res, 403, 'AuthError', MESSAGES.revoked);
  });

  it('403 service is archived for a key of an archived service', async () => {
    expectError(
      await call(envoi.url, 'GET', '/v2/templates', apiKey(archivedKey)),
      403,
      'AuthError',
      MESSAGES.archived,
    );
  });
});

describe('before authentication', () => {
  const NOT_FOUND =
    'The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.';
  const NOT_ALLOWED = 'The method is not allowed for the requested URL.';

  it('an unknown URL answers 404 {"result":"error"} without asking for a token', async () => {
    // `/` itself is the web UI (issue 4); everything unknown under the API's prefixes is Notify's 404.
    for (const path of ['/v2/nothing-here', '/v2/notifications/email/extra', '/v3/notifications', '/v2']) {
      const res = await call(envoi.url, 'GET', path);
      expect(res.status).toBe(404);
      expectSchema('appError', res.body);
      expect(res.body).toEqual({ result: 'error', message: NOT_FOUND });
    }
  });

  it('an unknown URL answers 404 even with a bad token', async () => {
    const res = await call(envoi.url, 'POST', '/v2/nothing-here', { authorization: 'Bearer nope', json: {} });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ result: 'error', message: NOT_FOUND });
  });

  it('a known URL with the wrong method answers 405 without asking for a token', async () => {
    const cases: [string, string][] = [
      ['PUT', '/v2/notifications/email'],
      ['DELETE', '/v2/notifications/sms'],
      ['POST', '/v2/notifications'],
      ['DELETE', `/v2/template/${randomUUID()}`],
      ['GET', `/v2/template/${randomUUID()}/preview`],
      ['PATCH', '/v2/templates'],
      ['POST', '/v2/received-text-messages'],
    ];
    for (const [method, path] of cases) {
      const res = await call(envoi.url, method, path);
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 405 });
      expectSchema('appError', res.body);
      expect(res.body).toEqual({ result: 'error', message: NOT_ALLOWED });
    }
  });
});

describe('a token used again', () => {
  it('stops working as soon as its key is revoked, even within the same second', async () => {
    const first = await envoi.bootstrap({
      services: [
        {
          name: 'Revocation service',
          id: '66666666-6666-4666-8666-666666666666',
          api_keys: [{ name: 'soon-revoked', type: 'normal' }],
        },
      ],
    });
    const key = first.services[0]!.api_keys['soon-revoked']!;
    const { serviceId, secret } = keyParts(key);
    const sameToken = `Bearer ${signToken(serviceId, secret, nowSeconds())}`;
    const before = await call(envoi.url, 'GET', '/v2/templates', { authorization: sameToken });
    expect(before.status).toBe(200);
    await envoi.bootstrap({
      services: [
        {
          name: 'Revocation service',
          id: '66666666-6666-4666-8666-666666666666',
          api_keys: [{ name: 'soon-revoked', type: 'normal', revoked: true }],
        },
      ],
    });
    const after = await call(envoi.url, 'GET', '/v2/templates', { authorization: sameToken });
    expectError(after, 403, 'AuthError', 'Invalid token: API key revoked');
  });

  it('is refused once its iat is more than 30 seconds old, though it was accepted before', async () => {
    const { serviceId, secret } = keyParts(liveKey);
    const iat = nowSeconds() - 29;
    const oldToken = `Bearer ${signToken(serviceId, secret, iat)}`;
    expect((await call(envoi.url, 'GET', '/v2/templates', { authorization: oldToken })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const later = await call(envoi.url, 'GET', '/v2/templates', { authorization: oldToken });
    expectError(later, 403, 'AuthError', 'Error: Your system clock must be accurate to within 30 seconds');
  });
});
