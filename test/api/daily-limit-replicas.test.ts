/**
 * The daily message limit while the API writes two batches at once, each on its own counter row (shard), and while
 * two replicas share the database: a burst is cut exactly at the limit, the day's count is the sum of the rows
 * whichever batch wrote them, and a replica learns of the other's sends from the totals its own writes return.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, createServices, type AppServices } from '../../src/app.ts';
import type { Config } from '../../src/platform/config.ts';
import type { applyBootstrap } from '../../src/notify/provisioning/apply-bootstrap.ts';
import { sentOn, utcDay } from '../../src/notify/sending/limits.ts';
import type { TestDatabase } from '../support/database.ts';
import { provisionedDatabase, TEST_SECRET_KEY } from '../support/envoi.ts';
import { call, expectError } from './helpers.ts';

const BURST_ID = 'b1111111-1111-4111-8111-111111111111';
const SHARED_ID = 'b2222222-2222-4222-8222-222222222222';
const RACE_ID = 'b3333333-3333-4333-8333-333333333333';
const LIMIT = 40;

let database: TestDatabase;
let config: Config;
let provisioned: Awaited<ReturnType<typeof applyBootstrap>>;
const replicas: Array<{ app: FastifyInstance; url: string; services: AppServices }> = [];

beforeAll(async () => {
  const service = (name: string, id: string) => ({
    name,
    id,
    restricted: false,
    permissions: ['email' as const],
    message_limit: { email: LIMIT },
    rate_limit: 10_000,
    templates: [{ key: 'email', type: 'email' as const, versions: [{ name: 'Hi', subject: 'Hi', content: 'Hi' }] }],
    api_keys: [{ name: 'live', type: 'normal' as const }],
  });
  const file = {
    services: [
      service('Burst service', BURST_ID),
      service('Shared service', SHARED_ID),
      service('Race service', RACE_ID),
    ],
  };
  ({ database, config, provisioned } = await provisionedDatabase(file));
  for (let i = 0; i < 2; i++) {
    const services = createServices(config, database, TEST_SECRET_KEY);
    const app = await createApp(services);
    replicas.push({ app, url: await app.listen({ port: 0, host: '127.0.0.1' }), services });
  }
});

afterAll(async () => {
  for (const r of replicas) await r.app.close();
  await database?.close();
});

const send = (url: string, index: 0 | 1 | 2, to = 'someone@example.com') =>
  call(url, 'POST', '/v2/notifications/email', {
    key: provisioned.services[index]!.api_keys.live!,
    json: { email_address: to, template_id: provisioned.services[index]!.templates.email },
  });

const counterRows = (serviceId: string) =>
  database.db
    .selectFrom('daily_send_counts')
    .select(['shard', 'sent'])
    .where('service_id', '=', serviceId)
    .orderBy('shard')
    .execute();

describe('daily limit with concurrent batches and two replicas', () => {
  it('cuts a concurrent burst exactly at the limit, and the day’s count is the sum of the batches’ rows', async () => {
    const [a] = replicas;
    const results = await Promise.all(
      Array.from({ length: LIMIT + 25 }, (_, i) => send(a!.url, 0, `person${i}@example.com`)),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(LIMIT);
    expect(statuses.filter((s) => s === 429)).toHaveLength(25);
    expectError(
      results.find((r) => r.status === 429)!,
      429,
      'TooManyRequestsError',
      `Exceeded send limits (email: ${LIMIT}) for today`,
    );

    const { count } = await database.db
      .selectFrom('notifications')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('service_id', '=', BURST_ID)
      .executeTakeFirstOrThrow();
    expect(Number(count)).toBe(LIMIT);
    expect(await sentOn(database.db, BURST_ID, utcDay(), 'email')).toBe(LIMIT);
    const rows = await counterRows(BURST_ID);
    expect(rows.reduce((sum, r) => sum + r.sent, 0)).toBe(LIMIT);

    // A replica that had not looked at this service yet reads the sum, and refuses at once.
    expectError(
      await send(replicas[1]!.url, 0),
      429,
      'TooManyRequestsError',
      `Exceeded send limits (email: ${LIMIT}) for today`,
    );
  });

  it('near the limit, a replica counts what the others committed on any shard before it accepts', async () => {
    const [a, b] = replicas as [(typeof replicas)[number], (typeof replicas)[number]];
    // Both replicas have read the day's count (nothing yet) before the other sends.
    expect(await a.services.send.limits.remaining(SHARED_ID, 'email', LIMIT)).toBe(LIMIT);
    expect(await b.services.send.limits.remaining(SHARED_ID, 'email', LIMIT)).toBe(LIMIT);

    // Replica B's sends, and more committed on a shard that no writer of A's uses.
    for (let i = 0; i < 5; i++) expect((await send(b.url, 1)).status).toBe(201);
    await database.db
      .insertInto('daily_send_counts')
      .values({ service_id: SHARED_ID, day: utcDay(), channel: 'email', shard: 7, sent: 30 })
      .execute();

    // A accepts exactly what is left of the limit, whatever it had read before.
    for (let i = 0; i < LIMIT - 35; i++) expect((await send(a.url, 1)).status).toBe(201);
    expectError(await send(a.url, 1), 429, 'TooManyRequestsError', `Exceeded send limits (email: ${LIMIT}) for today`);
    expect(await sentOn(database.db, SHARED_ID, utcDay(), 'email')).toBe(LIMIT);
  });

  it('two replicas sending at once stop together exactly at the limit', async () => {
    const results = await Promise.all(
      Array.from({ length: 2 * LIMIT }, (_, i) => send(replicas[i % 2]!.url, 2, `person${i}@example.com`)),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(LIMIT);
    expect(results.filter((r) => r.status !== 201).every((r) => r.status === 429)).toBe(true);
    const stored = await database.db
      .selectFrom('notifications')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('service_id', '=', RACE_ID)
      .executeTakeFirstOrThrow();
    expect(Number(stored.count)).toBe(results.filter((r) => r.status === 201).length);
    expect(await sentOn(database.db, RACE_ID, utcDay(), 'email')).toBe(LIMIT);
  });
});
