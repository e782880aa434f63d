/**
 * A bounded, seeded fuzz of every /v2 route (issue 13 §5): mutated methods, paths (long, badly encoded, NUL, huge
 * integers, not UUIDs), query strings, headers (no key, a garbage one, mostly a valid one) and bodies (wrong types,
 * deep nesting, huge strings, NUL, unicode). Nothing may answer 5xx, and every 4xx must be in Notify's error format:
 * `{"status_code": N, "errors": [{"error", "message"}, …]}`, except the app-level answers the reference gives for
 * an unknown URL (404) and a wrong method (405): `{"result": "error", "message": …}` (notify-api-v2.md §1).
 *
 * The seed is printed; FUZZ_SEED=<n> replays a run, FUZZ_REQUESTS=<n> changes its length.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEnvoi, type RunningEnvoi } from '../support/envoi.ts';
import { fixture } from './fixture.ts';
import { bearer } from './helpers.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 13_2026);
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 1_500);
const CONCURRENCY = 4;

/** mulberry32: a tiny PRNG, so that one seed is one run. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    chance: (p: number) => next() < p,
    int: (n: number) => Math.floor(next() * n),
    pick<T>(items: readonly T[]): T {
      return items[Math.floor(next() * items.length)]!;
    },
    /** A version 4 UUID no row has, from the seed. */
    uuid(): string {
      const hex = Array.from({ length: 32 }, () => Math.floor(next() * 16).toString(16)).join('');
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20)}`;
    },
  };
}
type Rng = ReturnType<typeof prng>;

let envoi: RunningEnvoi;
let ids: { template: string; smsTemplate: string; key: string; liveKey: string };

beforeAll(async () => {
  envoi = await startEnvoi({ bootstrap: fixture() });
  const live = envoi.provisioned.services[0]!;
  ids = {
    template: live.templates.email!,
    smsTemplate: live.templates.sms!,
    key: live.api_keys.test!,
    liveKey: live.api_keys.live!,
  };
});

afterAll(async () => {
  await envoi?.stop();
});

// ---------------------------------------------------------------------------------------------------------------
// What gets sent.

const deep = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);

/** Raw path segments: good ones and hostile ones, already in URL form. */
function segment(rng: Rng, good: string): string {
  return rng.pick([
    good,
    good,
    rng.uuid(),
    'not-a-uuid',
    '%C0%AF',
    '%ZZ',
    '%',
    '%00',
    `a%00b`,
    'x'.repeat(150),
    'x'.repeat(1_200),
    '2147483648',
    '99999999999999999999999999',
    '-1',
    '1.5',
    encodeURIComponent('é😀'),
    '%ED%A0%80', // an encoded lone surrogate
    '..',
    '',
  ]);
}

function hostileString(rng: Rng): unknown {
  return rng.pick([
    '',
    'a\u0000b',
    '\u0000',
    'é😀',
    '\ud800',
    'x'.repeat(rng.pick([1_001, 70_000, 600_000])),
    '((name))',
    '<script>alert(1)</script>',
    '2147483648',
  ]);
}

function hostileValue(rng: Rng): unknown {
  return rng.pick([
    null,
    true,
    0,
    -1,
    2_147_483_648,
    1e308,
    [],
    {},
    [1, 'a', null],
    { a: { b: { c: 'd' } } },
    hostileString(rng),
    hostileString(rng),
  ]);
}

function queryValue(rng: Rng): string {
  return rng.pick([
    'email',
    'sms',
    'letter',
    'delivered',
    'true',
    rng.uuid(),
    'email:someone@example.com',
    '%00',
    'a%00b',
    '%C0%AF',
    '%E9',
    '2147483648',
    'x'.repeat(3_000),
    encodeURIComponent('é😀'),
  ]);
}

function queryString(rng: Rng, keys: string[]): string {
  if (rng.chance(0.3)) return '';
  const parts: string[] = [];
  for (let i = rng.int(4); i >= 0; i--) parts.push(`${rng.pick([...keys, 'junk', '%00', ''])}=${queryValue(rng)}`);
  if (rng.chance(0.02)) parts.push(`reference=${'x'.repeat(17_000)}`); // past Node's 16 KB of headers
  return `?${parts.join('&')}`;
}

/** A body for a route: its valid form, one field made hostile, or something that is not the route's JSON at all. */
function body(rng: Rng, valid: Record<string, unknown>): string | undefined {
  const roll = rng.int(10);
  if (roll === 0) return undefined;
  if (roll === 1) return rng.pick(['', 'not json', '{', '[]', 'null', '"text"', '1e999', '{"a":1,"a":2}']);
  if (roll === 2) return rng.pick([deep(40), deep(8_000), `{"personalisation":{"name":${deep(8_000)}}}`]);
  if (roll === 3) return JSON.stringify(valid);
  const mutated: Record<string, unknown> = { ...valid };
  for (let i = rng.int(3); i >= 0; i--) {
    const field = rng.pick([...Object.keys(valid), 'personalisation', 'extra', '\u0000']);
    mutated[field] = field === 'personalisation' && rng.chance(0.5) ? personalisation(rng) : hostileValue(rng);
  }
  return JSON.stringify(mutated);
}

function personalisation(rng: Rng): unknown {
  const roll = rng.int(5);
  if (roll === 0) return { name: hostileString(rng) };
  if (roll === 1) return Object.fromEntries(Array.from({ length: rng.pick([5, 1_050]) }, (_, i) => [`k${i}`, 'v']));
  if (roll === 2) return { name: ['a', 'b', null, 1] };
  if (roll === 3) return { 'na\u0000me': 'x', name: 'y' };
  return { name: { file: 'aGVsbG8=', filename: 'a.txt' } };
}

interface Route {
  method: string;
  path: (rng: Rng) => string;
  query?: string[];
  body?: () => Record<string, unknown>;
}

function routes(): Route[] {
  const email = () => ({
    email_address: 'someone@example.com',
    template_id: ids.template,
    personalisation: { name: 'A' },
  });
  const sms = () => ({ phone_number: '+16135550199', template_id: ids.smsTemplate, personalisation: { name: 'A' } });
  const bulk = () => ({
    template_id: ids.template,
    name: 'list.csv',
    rows: [
      ['email address', 'name'],
      ['someone@example.com', 'A'],
    ],
  });
  const id = (rng: Rng) => segment(rng, rng.uuid());
  const template = (rng: Rng) => segment(rng, ids.template);
  return [
    { method: 'POST', path: () => '/v2/notifications/email', body: email },
    { method: 'POST', path: () => '/v2/notifications/sms', body: sms },
    { method: 'POST', path: () => '/v2/notifications/letter', body: () => ({ template_id: ids.template }) },
    { method: 'GET', path: () => '/v2/notifications', query: ['template_type', 'status', 'reference', 'older_than'] },
    { method: 'GET', path: (rng) => `/v2/notifications/${id(rng)}` },
    { method: 'GET', path: (rng) => `/v2/notifications/${id(rng)}/pdf` },
    { method: 'POST', path: () => '/v2/notifications/bulk', body: bulk },
    { method: 'GET', path: (rng) => `/v2/notifications/bulk/${id(rng)}` },
    { method: 'GET', path: (rng) => `/v2/notifications/bulk/${id(rng)}/report` },
    { method: 'POST', path: (rng) => `/v2/notifications/bulk/${id(rng)}/cancel` },
    { method: 'GET', path: (rng) => `/v2/template/${template(rng)}` },
    { method: 'GET', path: (rng) => `/v2/template/${template(rng)}/version/${segment(rng, '1')}` },
    { method: 'POST', path: (rng) => `/v2/template/${template(rng)}/preview`, body: () => ({ personalisation: {} }) },
    { method: 'GET', path: () => '/v2/templates', query: ['type'] },
    { method: 'GET', path: () => '/v2/received-text-messages', query: ['older_than'] },
    { method: 'GET', path: () => '/v2/suppressions', query: ['channel', 'older_than'] },
    {
      method: 'DELETE',
      path: (rng) => `/v2/suppressions/${segment(rng, 'email')}/${segment(rng, 'someone%40example.com')}`,
    },
  ];
}

function authorization(rng: Rng): string | undefined {
  const roll = rng.int(10);
  if (roll === 0) return undefined;
  if (roll === 1)
    return rng.pick(['Bearer', 'Bearer xyz', 'Basic dXNlcjpwYXNz', `Bearer ${'a'.repeat(5_000)}`, '\u00e9']);
  return bearer(roll === 2 ? ids.liveKey : ids.key);
}

// ---------------------------------------------------------------------------------------------------------------
// What must come back.

interface Failure {
  method: string;
  url: string;
  status: number | string;
  body: string;
}

function check(method: string, url: string, status: number, text: string): Failure | null {
  const failure = { method, url: url.length > 200 ? `${url.slice(0, 200)}…` : url, status, body: text.slice(0, 300) };
  if (status >= 500) return failure;
  if (status < 400 || method === 'HEAD') return null;
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    return failure;
  }
  // The reference's app-level answers for an unknown URL and a wrong method (notify-api-v2.md §1).
  if ((status === 404 || status === 405) && json?.result === 'error' && typeof json.message === 'string') return null;
  const notify =
    json?.status_code === status &&
    Array.isArray(json.errors) &&
    json.errors.length > 0 &&
    json.errors.every((e: any) => typeof e?.error === 'string' && typeof e?.message === 'string');
  return notify ? null : failure;
}

async function fuzzOne(rng: Rng, all: Route[]): Promise<{ status: number | string; failure: Failure | null }> {
  const route = rng.pick(all);
  const method = rng.chance(0.1)
    ? rng.pick(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'])
    : route.method;
  const url = `${envoi.url}${route.path(rng)}${queryString(rng, route.query ?? ['junk'])}`;
  const headers: Record<string, string> = {};
  const auth = authorization(rng);
  if (auth !== undefined) headers.authorization = auth;
  const payload = route.body && method !== 'GET' && method !== 'HEAD' ? body(rng, route.body()) : undefined;
  if (payload !== undefined) headers['content-type'] = rng.pick(['application/json', 'text/plain', 'x/y; charset=zz']);
  try {
    const res = await fetch(url, { method, headers, body: payload });
    return { status: res.status, failure: check(method, url, res.status, await res.text()) };
  } catch (err) {
    // Only a URL past Node's header limit may lose its 431 to the connection being closed under it.
    if (url.length > 16_000) return { status: 'lost 431', failure: null };
    const status = `no answer: ${(err as Error).cause ?? err}`;
    return { status, failure: { method, url: url.slice(0, 200), status, body: '' } };
  }
}

describe(`fuzzing /v2 (seed ${SEED}, ${REQUESTS} requests)`, () => {
  it('answers no 5xx, and every 4xx in Notify’s error format', { timeout: 180_000 }, async () => {
    console.log(`fuzz seed ${SEED} (FUZZ_SEED=${SEED} replays this run)`);
    const rng = prng(SEED);
    const all = routes();
    // Requests are drawn in order from the one generator, then sent a few at a time.
    const failures: Failure[] = [];
    const statuses = new Map<number | string, number>();
    let sent = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (sent < REQUESTS) {
          sent++;
          const { status, failure } = await fuzzOne(rng, all);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (failure) failures.push(failure);
        }
      }),
    );
    console.log('answers by status:', Object.fromEntries([...statuses].sort()));
    expect(failures).toEqual([]);
  });
});
