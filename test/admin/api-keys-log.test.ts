/**
 * The record of recent API requests without a browser: bounded per service whatever the load, failures kept
 * among a flood of successes, no query strings, and nothing written until a flush.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';
import { createService } from '../delivery/fixtures.ts';
import { ApiRequestLog, listApiRequests } from '../../src/notify/settings/api-keys.ts';
import { serviceNamedBy } from '../../src/notify/api/v2/auth.ts';
import { signToken } from '../../src/notify/api/v2/jwt.ts';

let database: TestDatabase;
let serviceId: string;
let otherId: string;

beforeAll(async () => {
  database = await openTestDatabase();
  serviceId = await createService(database.db);
  otherId = await createService(database.db);
});
afterAll(async () => {
  await database?.close();
});

it('keeps about the last thousand requests of each service, and the failures among a flood', async () => {
  const log = new ApiRequestLog(database.db, { flushMs: 60_000, keep: 100 });
  log.record(otherId, null, 'GET', '/v2/notifications?reference=private', 200);
  for (let second = 0; second < 10; second++) {
    for (let i = 0; i < 500; i++) log.record(serviceId, null, 'POST', '/v2/notifications/email', i === 250 ? 400 : 201);
    // Recording writes nothing: only a flush does.
    if (second === 0) expect(await listApiRequests(database.db, serviceId, { limit: 1000 })).toEqual([]);
    await log.flush();
  }
  await log.close();
  const rows = await listApiRequests(database.db, serviceId, { limit: 10_000 });
  expect(rows.length).toBeGreaterThanOrEqual(100);
  expect(rows.length).toBeLessThanOrEqual(150);
  // One failure in each second's 500 requests, and every one of the last seconds' is there.
  expect(rows.filter((r) => r.statusCode === 400).length).toBeGreaterThanOrEqual(5);
  const other = await listApiRequests(database.db, otherId, { limit: 10 });
  expect(other.map((r) => [r.method, r.path, r.statusCode])).toEqual([['GET', '/v2/notifications', 200]]);
  expect(
    (await listApiRequests(database.db, serviceId, { limit: 10, failuresOnly: true })).length,
  ).toBeGreaterThanOrEqual(5);
});

it('names the service of a bearer token or an ApiKey-v1 key, and nothing for junk', () => {
  const secret = '11111111-2222-3333-4444-555555555555';
  expect(serviceNamedBy(`Bearer ${signToken(serviceId, secret)}`)).toBe(serviceId);
  expect(serviceNamedBy(`ApiKey-v1 my_key-${serviceId}-${secret}`)).toBe(serviceId);
  expect(serviceNamedBy('Bearer nonsense')).toBeNull();
  expect(serviceNamedBy(undefined)).toBeNull();
});
