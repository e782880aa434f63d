import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { ApiError } from './errors.ts';
import { formatApiKeyString, parseApiKeyString } from '../../settings/api-keys.ts';
import {
  AUTH_MESSAGES,
  bearerTokenFromHeader,
  checkIssuedAt,
  readToken,
  signatureMatches,
  signToken,
  verifyBearer,
  type ServiceKeys,
} from './jwt.ts';

const require = createRequire(import.meta.url);
// The official Node client's own signing function, and the JWT library it signs with.
const createGovukNotifyToken: (method: string, path: string, secret: string, serviceId: string) => string =
  require('notifications-node-client/client/authentication.js');
const jsonwebtoken: {
  sign(payload: object, secret: string, options?: object): string;
  verify(token: string, secret: string, options?: object): unknown;
} = require('jsonwebtoken');

const SERVICE_ID = '26785a09-ab16-4eb0-8407-a37497a57506';
const SECRET = '3d844edf-8d35-48ac-975b-e847b4f122b0';
const OTHER_SECRET = '9e1bd3c4-36a1-4c8f-9d0e-0c5b7b7f2a11';
const NOW = 1_800_000_000;

const service = (overrides: Partial<ServiceKeys> = {}): ServiceKeys => ({
  active: true,
  keys: [{ id: 'key-live', secret: SECRET, revoked: false }],
  ...overrides,
});

/** A loader over a fixed table, recording the ids it was asked for. */
function loader(services: Record<string, ServiceKeys>) {
  const asked: string[] = [];
  const load = async (serviceId: string) => {
    asked.push(serviceId);
    return services[serviceId] ?? null;
  };
  return Object.assign(load, { asked });
}

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** Any header and payload, signed HS256 with `secret` whatever the header claims. */
function customToken(header: object, payload: object, secret = SECRET): string {
  const signingInput = `${b64(header)}.${b64(payload)}`;
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
}

async function authFailure(promise: Promise<unknown>): Promise<{ status: number; message: string; body: unknown }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return { status: error.statusCode, message: error.message, body: error.toBody() };
    throw error;
  }
  throw new Error('expected an AuthError');
}

describe('verifyBearer with tokens made by the official clients', () => {
  it('accepts a token from notifications-node-client', async () => {
    const token = createGovukNotifyToken('POST', '/v2/notifications/email', SECRET, SERVICE_ID);
    await expect(verifyBearer(token, loader({ [SERVICE_ID]: service() }))).resolves.toBe('key-live');
  });

  it('accepts a token signed with jsonwebtoken the way the client does, at a given time', async () => {
    const token = jsonwebtoken.sign({ iss: SERVICE_ID, iat: NOW }, SECRET, { header: { typ: 'JWT', alg: 'HS256' } });
    await expect(verifyBearer(token, loader({ [SERVICE_ID]: service() }), NOW)).resolves.toBe('key-live');
  });

  it('signToken makes tokens jsonwebtoken accepts, with the claims Notify expects', () => {
    const token = signToken(SERVICE_ID, SECRET, NOW);
    expect(jsonwebtoken.verify(token, SECRET, { algorithms: ['HS256'], clockTimestamp: NOW })).toEqual({
      iss: SERVICE_ID,
      iat: NOW,
    });
    expect(readToken(token).header).toEqual({ typ: 'JWT', alg: 'HS256' });
  });

  it('finds the key that signed the token among several', async () => {
    const keys = service({
      keys: [
        { id: 'key-team', secret: OTHER_SECRET, revoked: false },
        { id: 'key-test', secret: SECRET, revoked: false },
      ],
    });
    await expect(verifyBearer(signToken(SERVICE_ID, SECRET, NOW), loader({ [SERVICE_ID]: keys }), NOW)).resolves.toBe(
      'key-test',
    );
  });
});

describe('verifyBearer errors, in Notify order', () => {
  const services = { [SERVICE_ID]: service() };

  it.each([
    ['not a JWT', '1234'],
    ['two segments', 'abc.def'],
    ['four segments', `${signToken(SERVICE_ID, SECRET, NOW)}.extra`],
    ['a header that is not JSON', `${b64('not json')}.${b64({ iss: SERVICE_ID })}.c2ln`],
    ['a payload that is a JSON array', `${b64({ alg: 'HS256' })}.${b64([SERVICE_ID])}.c2ln`],
    ['characters outside base64url', `${b64({ alg: 'HS256' })}.${b64({ iss: SERVICE_ID })}.sig+nature/`],
    ['an empty string', ''],
  ])('403 "make sure your API token matches the example" for %s', async (_, token) => {
    const failure = await authFailure(verifyBearer(token, loader(services), NOW));
    expect(failure).toEqual({
      status: 403,
      message: AUTH_MESSAGES.undecodable,
      body: { status_code: 403, errors: [{ error: 'AuthError', message: AUTH_MESSAGES.undecodable }] },
    });
  });

  it('403 when iss is missing, before any database look-up', async () => {
    const load = loader(services);
    const failure = await authFailure(verifyBearer(customToken({ typ: 'JWT', alg: 'HS256' }, { iat: NOW }), load, NOW));
    expect(failure.message).toBe('Invalid token: iss field not provided');
    expect(load.asked).toEqual([]);
  });

  it.each([
    ['a name', 'my-service'],
    ['a number', 12345],
    ['null', null],
    ['a UUID with a wrong digit count', '26785a09-ab16-4eb0-8407-a37497a5750'],
  ])('403 "service id is not the right data type" when iss is %s', async (_, iss) => {
    const failure = await authFailure(
      verifyBearer(customToken({ alg: 'HS256' }, { iss, iat: NOW }), loader(services), NOW),
    );
    expect(failure).toMatchObject({ status: 403, message: 'Invalid token: service id is not the right data type' });
  });

  it.each([
    'urn:uuid:26785a09-ab16-4eb0-8407-a37497a57506',
    '{26785A09-AB16-4EB0-8407-A37497A57506}',
    '26785a09ab164eb08407a37497a57506',
  ])('looks up the canonical service id for iss %s, as Python UUID() reads it', async (iss) => {
    const load = loader(services);
    await expect(verifyBearer(customToken({ alg: 'HS256' }, { iss, iat: NOW }), load, NOW)).resolves.toBe('key-live');
    expect(load.asked).toEqual([SERVICE_ID]);
  });

  it('403 "service not found" for an unknown service', async () => {
    const failure = await authFailure(verifyBearer(signToken(SERVICE_ID, SECRET, NOW), loader({}), NOW));
    expect(failure).toMatchObject({ status: 403, message: 'Invalid token: service not found' });
  });

  it('403 "service has no API keys", checked before whether the service is archived', async () => {
    const load = loader({ [SERVICE_ID]: service({ keys: [], active: false }) });
    const failure = await authFailure(verifyBearer(signToken(SERVICE_ID, SECRET, NOW), load, NOW));
    expect(failure.message).toBe('Invalid token: service has no API keys');
  });

  it('403 "service is archived" even with a valid key', async () => {
    const load = loader({ [SERVICE_ID]: service({ active: false }) });
    const failure = await authFailure(verifyBearer(signToken(SERVICE_ID, SECRET, NOW), load, NOW));
    expect(failure.message).toBe('Invalid token: service is archived');
  });

  it.each([
    ['HS512', { typ: 'JWT', alg: 'HS512' }],
    ['none', { typ: 'JWT', alg: 'none' }],
    ['RS256', { alg: 'RS256' }],
    ['a missing alg', { typ: 'JWT' }],
    ['a lower-case hs256', { alg: 'hs256' }],
  ])('403 "algorithm used is not HS256" for %s, whatever the signature', async (_, header) => {
    const token = customToken(header, { iss: SERVICE_ID, iat: NOW });
    const failure = await authFailure(verifyBearer(token, loader(services), NOW));
    expect(failure).toMatchObject({ status: 403, message: 'Invalid token: algorithm used is not HS256' });
  });

  it('refuses an unsigned alg:none token with an empty signature', async () => {
    const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: SERVICE_ID, iat: NOW })}.`;
    const failure = await authFailure(verifyBearer(token, loader(services), NOW));
    expect(failure.message).toBe('Invalid token: algorithm used is not HS256');
  });

  it('refuses an HS512 token signed by jsonwebtoken with the right secret', async () => {
    const token = jsonwebtoken.sign({ iss: SERVICE_ID, iat: NOW }, SECRET, { algorithm: 'HS512' });
    const failure = await authFailure(verifyBearer(token, loader(services), NOW));
    expect(failure.message).toBe('Invalid token: algorithm used is not HS256');
  });

  it('403 "API key not found" when no key of the service signed the token', async () => {
    const failure = await authFailure(verifyBearer(signToken(SERVICE_ID, OTHER_SECRET, NOW), loader(services), NOW));
    expect(failure).toMatchObject({ status: 403, message: 'Invalid token: API key not found' });
  });

  it('reports a wrong key rather than the clock when both are wrong (signature comes first)', async () => {
    const failure = await authFailure(
      verifyBearer(signToken(SERVICE_ID, OTHER_SECRET, NOW - 3600), loader(services), NOW),
    );
    expect(failure.message).toBe('Invalid token: API key not found');
  });

  it('403 "API key revoked" when the signing key is revoked', async () => {
    const load = loader({
      [SERVICE_ID]: service({
        keys: [
          { id: 'old', secret: SECRET, revoked: true },
          { id: 'new', secret: OTHER_SECRET, revoked: false },
        ],
      }),
    });
    const failure = await authFailure(verifyBearer(signToken(SERVICE_ID, SECRET, NOW), load, NOW));
    expect(failure).toMatchObject({ status: 403, message: 'Invalid token: API key revoked' });
    await expect(verifyBearer(signToken(SERVICE_ID, OTHER_SECRET, NOW), load, NOW)).resolves.toBe('new');
  });

  it.each([
    [-30, true],
    [30, true],
    [-31, false],
    [31, false],
  ])('iat at now %+d s: accepted = %s', async (offset, accepted) => {
    const result = verifyBearer(signToken(SERVICE_ID, SECRET, NOW + offset), loader(services), NOW);
    if (accepted) await expect(result).resolves.toBe('key-live');
    else {
      expect(await authFailure(result)).toMatchObject({
        status: 403,
        message: 'Error: Your system clock must be accurate to within 30 seconds',
      });
    }
  });

  it.each([
    ['missing', {}],
    ['text', { iat: 'yesterday' }],
    ['null', { iat: null }],
  ])('403 clock error when iat is %s', async (_, claims) => {
    const token = customToken({ alg: 'HS256' }, { iss: SERVICE_ID, ...claims });
    const failure = await authFailure(verifyBearer(token, loader(services), NOW));
    expect(failure.message).toBe('Error: Your system clock must be accurate to within 30 seconds');
  });

  it('checks the clock before revocation, as Notify does', async () => {
    const load = loader({ [SERVICE_ID]: service({ keys: [{ id: 'old', secret: SECRET, revoked: true }] }) });
    const failure = await authFailure(verifyBearer(signToken(SERVICE_ID, SECRET, NOW - 120), load, NOW));
    expect(failure.message).toBe('Error: Your system clock must be accurate to within 30 seconds');
  });

  it('gives the general token error for an expired exp claim or an audience', async () => {
    for (const extra of [{ exp: NOW - 60 }, { aud: 'somebody-else' }]) {
      const token = customToken({ alg: 'HS256' }, { iss: SERVICE_ID, iat: NOW, ...extra });
      expect((await authFailure(verifyBearer(token, loader(services), NOW))).message).toBe(AUTH_MESSAGES.undecodable);
    }
    const fresh = customToken({ alg: 'HS256' }, { iss: SERVICE_ID, iat: NOW, exp: NOW + 60 });
    await expect(verifyBearer(fresh, loader(services), NOW)).resolves.toBe('key-live');
  });

  it('does not check typ', async () => {
    const token = customToken({ alg: 'HS256', typ: 'at+jwt' }, { iss: SERVICE_ID, iat: NOW });
    await expect(verifyBearer(token, loader(services), NOW)).resolves.toBe('key-live');
  });
});

describe('building blocks', () => {
  it('signatureMatches only for the signing secret', () => {
    const parsed = readToken(signToken(SERVICE_ID, SECRET, NOW));
    expect(signatureMatches(parsed, SECRET)).toBe(true);
    expect(signatureMatches(parsed, OTHER_SECRET)).toBe(false);
    expect(signatureMatches({ ...parsed, signature: parsed.signature.subarray(0, 16) }, SECRET)).toBe(false);
  });

  it('signatureMatches fails when the payload is altered after signing', () => {
    const [header, , signature] = signToken(SERVICE_ID, SECRET, NOW).split('.');
    const forged = readToken(`${header}.${b64({ iss: SERVICE_ID, iat: NOW + 1 })}.${signature}`);
    expect(signatureMatches(forged, SECRET)).toBe(false);
  });

  it('checkIssuedAt accepts ±30 s and integer-like values, and refuses the rest', () => {
    expect(() => checkIssuedAt({ iat: NOW - 30 }, NOW)).not.toThrow();
    expect(() => checkIssuedAt({ iat: NOW + 30 }, NOW)).not.toThrow();
    expect(() => checkIssuedAt({ iat: String(NOW) }, NOW)).not.toThrow();
    for (const payload of [{ iat: NOW - 31 }, { iat: NOW + 31 }, {}, { iat: 'soon' }, { iat: true }]) {
      expect(() => checkIssuedAt(payload, NOW)).toThrow(
        'Error: Your system clock must be accurate to within 30 seconds',
      );
    }
  });

  it.each([
    [undefined, 401, 'Unauthorized: authentication token must be provided'],
    ['', 401, 'Unauthorized: authentication token must be provided'],
    ['Basic dXNlcjpwYXNz', 401, 'Unauthorized: authentication bearer scheme must be used'],
    ['Bearer', 401, 'Unauthorized: authentication bearer scheme must be used'],
  ])('Authorization header %j → %i %s', (header, status, message) => {
    try {
      bearerTokenFromHeader(header);
      throw new Error('expected an AuthError');
    } catch (error) {
      expect(error).toBeInstanceOf(ApiError);
      expect(error).toMatchObject({ statusCode: status, errorName: 'AuthError', message });
    }
  });

  it('reads the Bearer scheme in any letter case', () => {
    expect(bearerTokenFromHeader('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerTokenFromHeader('bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerTokenFromHeader('BEARER abc.def.ghi ')).toBe('abc.def.ghi');
  });
});

describe('API key strings', () => {
  it('splits the documented example from the end', () => {
    expect(
      parseApiKeyString('my_test_key-26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0'),
    ).toEqual({ name: 'my_test_key', serviceId: SERVICE_ID, secret: SECRET });
  });

  it('keeps hyphens and the GC prefix in the name', () => {
    expect(parseApiKeyString(`gcntfy-my-key-${SERVICE_ID}-${SECRET}`)).toEqual({
      name: 'gcntfy-my-key',
      serviceId: SERVICE_ID,
      secret: SECRET,
    });
  });

  it('round-trips with formatApiKeyString', () => {
    const full = formatApiKeyString('Production key', SERVICE_ID, SECRET);
    expect(full).toBe(`Production key-${SERVICE_ID}-${SECRET}`);
    expect(parseApiKeyString(full)).toEqual({ name: 'Production key', serviceId: SERVICE_ID, secret: SECRET });
  });

  it.each([
    ['too short', `${SERVICE_ID}-${SECRET}`.slice(1)],
    ['just a secret', SECRET],
    ['a service id that is not a UUID', `key-${'x'.repeat(36)}-${SECRET}`],
    ['no separator before the secret', `key-${SERVICE_ID}_${SECRET}`],
    ['no separator before the service id', `key_${SERVICE_ID}-${SECRET}`],
  ])('returns null for %s', (_, full) => {
    expect(parseApiKeyString(full)).toBeNull();
  });
});
