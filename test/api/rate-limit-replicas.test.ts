/**
 * The API rate limit shared by replicas: two apps on one database stand for two `envoi api` processes behind a
 * load balancer. What one replica takes is taken from the other's bucket at its next sync, so together they allow
 * the limit once, not once each. Clocks are injected and syncs called directly: nothing here waits on time.
 */
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp, createServices } from '../../src/app.ts';
import type { Config } from '../../src/platform/config.ts';
import type { applyBootstrap } from '../../src/notify/provisioning/apply-bootstrap.ts';
import { RateLimiter } from '../../src/notify/sending/limits.ts';
import type { KeyType } from '../../src/notify/vocabulary.ts';
import type { TestDatabase } from '../support/database.ts';
import { provisionedDatabase, TEST_SECRET_KEY } from '../support/envoi.ts';
import { createService } from '../delivery/fixtures.ts';
import { call, expectError } from './helpers.ts';

const LIMITED_ID = 'a1111111-1111-4111-8111-111111111111';
const NEIGHBOUR_ID = 'a2222222-2222-4222-8222-222222222222';
const ARITHMETIC_ID = 'a3333333-3333-4333-8333-333333333333';
const REFUSED = 'Exceeded rate limit for key type LIVE of 3 requests per 60 seconds';

let database: TestDatabase;
let config: Config;
let provisioned: Awaited<ReturnType<typeof applyBootstrap>>;

beforeAll(async () => {
  // A rate limit of 3 per 60 s: a burst of ceil(3/3)+1 = 2, then one token every 20 s.
  const limited = (name: string, id: string) => ({
    name,
    id,
    restricted: false,
    permissions: ['email' as const],
    rate_limit: 3,
    templates: [{ key: 'email', type: 'email' as const, versions: [{ name: 'Hi', subject: 'Hi', content: 'Hi' }] }],
    api_keys: [
      { name: 'live', type: 'normal' as const },
      { name: 'test', type: 'test' as const },
    ],
  });
  const file = {
    services: [
      limited('Limited service', LIMITED_ID),
      limited('Neighbour service', NEIGHBOUR_ID),
      { name: 'Arithmetic service', id: ARITHMETIC_ID },
    ],
  };
  ({ database, config, provisioned } = await provisionedDatabase(file));
});

afterAll(async () => {
  await database?.close();
});

/** A settable clock for the limiters, so that refill is a matter of moving it. */
function clock(start = 1_700_000_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

/** How many more requests the limiter allows right now (using them up). */
function takeAll(limiter: RateLimiter, serviceId: string, keyType: KeyType, limitPer60s: number): number {
  for (let n = 0; n < 10_000; n++) {
    try {
      limiter.take(serviceId, keyType, limitPer60s);
    } catch {
      return n;
    }
  }
  throw new Error('the limiter never refused');
}

async function counter(serviceId: string, keyType: KeyType): Promise<number | undefined> {
  const row = await database.db
    .selectFrom('api_rate_counters')
    .select('taken')
    .where('service_id', '=', serviceId)
    .where('key_type', '=', keyType)
    .executeTakeFirst();
  return row === undefined ? undefined : Number(row.taken);
}

describe('two API replicas on one database', () => {
  const time = clock();
  const replicas: Array<{ app: FastifyInstance; url: string; limiter: RateLimiter }> = [];
  let a: (typeof replicas)[number];
  let b: (typeof replicas)[number];

  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      // No timer syncs here: which replica reads the counter when is up to the test, so that refill is exact.
      const limiter = new RateLimiter({ db: database.db, now: time.now, syncMs: 3_600_000 });
      const app = await createApp({ ...createServices(config, database, TEST_SECRET_KEY), rateLimiter: limiter });
      replicas.push({ app, url: await app.listen({ port: 0, host: '127.0.0.1' }), limiter });
    }
    [a, b] = replicas as [typeof a, typeof b];
  });

  afterAll(async () => {
    for (const r of replicas) await r.app.close();
  });

  const send = (replica: typeof a, key: string) =>
    call(replica.url, 'POST', '/v2/notifications/email', {
      key,
      json: { email_address: 'someone@example.com', template_id: provisioned.services[0]!.templates.email },
    });
  const syncBoth = async () => {
    await a.limiter.sync();
    await b.limiter.sync();
  };

  it('a burst taken on one replica is refused on the other after a sync; other key types and services go on; tokens refill', async () => {
    const limited = provisioned.services[0]!;
    const neighbour = provisioned.services[1]!;
    const sendNeighbour = (replica: typeof a) =>
      call(replica.url, 'POST', '/v2/notifications/email', {
        key: neighbour.api_keys.live!,
        json: { email_address: 'someone@example.com', template_id: neighbour.templates.email },
      });
    const live = limited.api_keys.live!;

    // B serves one request and syncs: it has read the shared count. A has not seen the key yet, so its first
    // burst goes unchecked, as at any first sync.
    expect((await send(b, live)).status).toBe(201);
    await syncBoth();

    // A takes its own whole burst of 2, as one process would.
    expect((await send(a, live)).status).toBe(201);
    expect((await send(a, live)).status).toBe(201);
    expectError(await send(a, live), 429, 'RateLimitError', REFUSED);

    // B had a token left by itself; A's two are taken from it at the sync, so B refuses too.
    await syncBoth();
    expect(await counter(LIMITED_ID, 'normal')).toBe(3);
    expectError(await send(b, live), 429, 'RateLimitError', REFUSED);

    // Another key type of the same service, and another service, have their own buckets.
    expect((await send(b, limited.api_keys.test!)).status).toBe(201);
    expect((await sendNeighbour(b)).status).toBe(201);
    expect((await sendNeighbour(a)).status).toBe(201);

    // B owes a token (1 - 2 = -1): 20 s refill one, which only pays the debt back; 40 s allow one request.
    time.advance(20_000);
    await syncBoth();
    expectError(await send(b, live), 429, 'RateLimitError', REFUSED);
    time.advance(20_000);
    await syncBoth();
    expect((await send(b, live)).status).toBe(201);
    expectError(await send(b, live), 429, 'RateLimitError', REFUSED);

    // A refilled 2 tokens over those 40 s and B's request is taken from them once A reads the counter: one is left.
    await b.limiter.sync();
    await a.limiter.sync();
    expect((await send(a, live)).status).toBe(201);
    expectError(await send(a, live), 429, 'RateLimitError', REFUSED);
  });

  it('a running app shares its tokens on its own, and hands over the last ones when it closes', async () => {
    const app = await createApp(createServices(config, database, TEST_SECRET_KEY));
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const before = (await counter(NEIGHBOUR_ID, 'normal')) ?? 0;
    const neighbour = provisioned.services[1]!;
    const sendNeighbour = () =>
      call(url, 'POST', '/v2/notifications/email', {
        key: neighbour.api_keys.live!,
        json: { email_address: 'someone@example.com', template_id: neighbour.templates.email },
      });
    expect((await sendNeighbour()).status).toBe(201);
    // The app's timer syncs about once a second.
    await vi.waitFor(async () => expect(await counter(NEIGHBOUR_ID, 'normal')).toBe(before + 1), {
      timeout: 10_000,
      interval: 50,
    });
    expect((await sendNeighbour()).status).toBe(201);
    await app.close();
    expect(await counter(NEIGHBOUR_ID, 'normal')).toBe(before + 2);
  });
});

describe('the arithmetic of a sync', () => {
  // A limit of 30 per 60 s: a burst of 11, one token every 2 s.
  const LIMIT = 30;

  it('subtracts nothing at a key’s first sync in a process, and each other replica’s token once', async () => {
    const keyType = 'team';
    const time = clock();
    const a = new RateLimiter({ db: database.db, now: time.now });
    const b = new RateLimiter({ db: database.db, now: time.now });

    for (let i = 0; i < 5; i++) b.take(ARITHMETIC_ID, keyType, LIMIT);
    await b.sync();
    // A first sees the key after B took 5: with no baseline of its own, it takes nothing from its bucket.
    a.take(ARITHMETIC_ID, keyType, LIMIT);
    await a.sync();
    expect(await counter(ARITHMETIC_ID, keyType)).toBe(6);

    // B takes from its bucket all 3 of A's tokens taken since B last read the counter, once however often it syncs.
    a.take(ARITHMETIC_ID, keyType, LIMIT);
    a.take(ARITHMETIC_ID, keyType, LIMIT);
    await a.sync();
    await b.sync();
    await b.sync();
    await a.sync();
    expect(takeAll(b, ARITHMETIC_ID, keyType, LIMIT)).toBe(11 - 5 - 3);
    expect(takeAll(a, ARITHMETIC_ID, keyType, LIMIT)).toBe(11 - 3);

    // Now B's last 3 come off A's empty bucket: it owes 3 tokens, and 5 tokens' refill (10 s) leaves 2.
    await b.sync();
    await a.sync();
    expect(takeAll(a, ARITHMETIC_ID, keyType, LIMIT)).toBe(0);
    time.advance(10_000);
    expect(takeAll(a, ARITHMETIC_ID, keyType, LIMIT)).toBe(2);
  });

  it('under a large limit, a busy second on another replica leaves this one its tokens', async () => {
    // 6,000,000 per 60 s: a bucket of 1,000 tokens, refilled at 100 a millisecond, far less than a second's worth.
    const BIG = 6_000_000;
    const keyType = 'normal';
    const time = clock();
    const a = new RateLimiter({ db: database.db, now: time.now });
    const b = new RateLimiter({ db: database.db, now: time.now });
    a.take(ARITHMETIC_ID, keyType, BIG);
    b.take(ARITHMETIC_ID, keyType, BIG);
    await a.sync();
    await b.sync();
    // Over one second B takes 2,000, twice its bucket but a small part of what the limit grants in a second.
    for (let ms = 0; ms < 1000; ms += 10) {
      time.advance(10);
      for (let i = 0; i < 20; i++) b.take(ARITHMETIC_ID, keyType, BIG);
    }
    await b.sync();
    await a.sync();
    // A, which took nothing meanwhile, still has its whole bucket at once.
    expect(takeAll(a, ARITHMETIC_ID, keyType, BIG)).toBe(1000);
  });

  it('changes nothing a single process can see', async () => {
    // The same requests, on the same clock, to a limiter that syncs often and to one with no database.
    const keyType = 'normal';
    const time = clock();
    const shared = new RateLimiter({ db: database.db, now: time.now, idleMs: 60_000 });
    const alone = new RateLimiter({ now: time.now });
    const outcomes = (limiter: RateLimiter) => {
      try {
        limiter.take(ARITHMETIC_ID, keyType, LIMIT);
        return 'allowed';
      } catch (err) {
        return (err as Error).message;
      }
    };
    // Bursts, steady use, a pause long enough for the idle key to be forgotten, and a burst again.
    const steps = [...Array(15).fill(100), 1_000, 1_500, 2_500, 2_000, 120_000, ...Array(14).fill(10)];
    for (const ms of steps) {
      time.advance(ms);
      expect(outcomes(shared)).toBe(outcomes(alone));
      await shared.sync();
    }
    expect(await counter(ARITHMETIC_ID, keyType)).toBeGreaterThan(0);
  });

  it('forgets an idle key only once its bucket is full again, not while it still owes the other replicas', async () => {
    const time = clock();
    const a = new RateLimiter({ db: database.db, now: time.now });
    const b = new RateLimiter({ db: database.db, now: time.now, idleMs: 1_000 });
    const serviceId = NEIGHBOUR_ID;
    const keyType = 'test';
    b.take(serviceId, keyType, LIMIT);
    await b.sync();
    a.take(serviceId, keyType, LIMIT);
    await a.sync();
    for (let i = 0; i < 10; i++) a.take(serviceId, keyType, LIMIT);
    await a.sync();
    await b.sync();
    // B, idle past its idleMs, has refilled 0.75 of a token since it was emptied: it keeps its bucket (and what
    // it owes), where a new one would allow a burst of 11.
    time.advance(1_500);
    await b.sync();
    expect(takeAll(b, serviceId, keyType, LIMIT)).toBe(0);
    // Full again and idle: forgotten. A request after that starts a new bucket and, as at a first sync, a new
    // baseline, so A's tokens taken in between are not taken from it.
    time.advance(30_000);
    await b.sync();
    time.advance(1_500);
    await b.sync();
    for (let i = 0; i < 5; i++) a.take(serviceId, keyType, LIMIT);
    await a.sync();
    await b.sync();
    expect(takeAll(b, serviceId, keyType, LIMIT)).toBe(11);
  });

  it('keeps sharing when a service with tokens not yet synced has been deleted', async () => {
    const time = clock();
    const a = new RateLimiter({ db: database.db, now: time.now });
    const b = new RateLimiter({ db: database.db, now: time.now });
    const gone = await createService(database.db);
    for (const limiter of [a, b]) {
      limiter.take(ARITHMETIC_ID, 'test', LIMIT);
      limiter.take(gone, 'normal', LIMIT);
      await limiter.sync();
    }
    a.take(gone, 'normal', LIMIT);
    a.take(ARITHMETIC_ID, 'test', LIMIT);
    await database.db.deleteFrom('services').where('id', '=', gone).execute();

    await a.sync();
    await b.sync();
    expect(takeAll(b, ARITHMETIC_ID, 'test', LIMIT)).toBe(11 - 1 - 1);
    expect(await counter(gone, 'normal')).toBeUndefined();
  });

  it('syncs on its timer once started, and on stop', async () => {
    const keyType = 'normal';
    const limiter = new RateLimiter({ db: database.db, syncMs: 10 });
    const errors: unknown[] = [];
    limiter.start((err) => errors.push(err));
    try {
      const before = (await counter(NEIGHBOUR_ID, keyType)) ?? 0;
      limiter.take(NEIGHBOUR_ID, keyType, 1000);
      await vi.waitFor(async () => expect(await counter(NEIGHBOUR_ID, keyType)).toBe(before + 1), {
        timeout: 5_000,
        interval: 10,
      });
      limiter.take(NEIGHBOUR_ID, keyType, 1000);
      await limiter.stop();
      expect(await counter(NEIGHBOUR_ID, keyType)).toBe(before + 2);
    } finally {
      await limiter.stop();
    }
    expect(errors).toEqual([]);
  });

  it('a failed sync loses only the tokens it carried; the next one shares again', async () => {
    const time = clock();
    const a = new RateLimiter({ db: database.db, now: time.now });
    const b = new RateLimiter({ db: database.db, now: time.now });
    const keyType = 'team';
    const serviceId = NEIGHBOUR_ID;
    for (const limiter of [a, b]) {
      limiter.take(serviceId, keyType, LIMIT);
      await limiter.sync();
    }
    // The counters table out of reach for a moment: the sync fails, the requests never did.
    await sql`ALTER TABLE api_rate_counters RENAME TO api_rate_counters_away`.execute(database.db);
    try {
      a.take(serviceId, keyType, LIMIT);
      await expect(a.sync()).rejects.toThrow(/api_rate_counters/);
    } finally {
      await sql`ALTER TABLE api_rate_counters_away RENAME TO api_rate_counters`.execute(database.db);
    }
    a.take(serviceId, keyType, LIMIT);
    await a.sync();
    await b.sync();
    // A's token taken after the failure comes off B's bucket; the one lost with the failed sync does not.
    expect(takeAll(b, serviceId, keyType, LIMIT)).toBe(11 - 1 - 1);
    // A could not tell whether its failed statement added its token, so it started from a new baseline: B's token,
    // taken before, is never taken from A's bucket (a second's sharing lost, never its own tokens counted twice).
    expect(takeAll(a, serviceId, keyType, LIMIT)).toBe(11 - 3);
  });
});
