/**
 * Sends that are safe to retry (Idempotency-Key): a retry answers as the first send did and creates nothing, another
 * request with the key is a 422, two requests racing with one key (on two replicas) make one notification, keys are
 * scoped to their service and last 24 hours.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, createServices } from '../../src/app.ts';
import type { Config } from '../../src/platform/config.ts';
import type { applyBootstrap } from '../../src/notify/provisioning/apply-bootstrap.ts';
import type { TestDatabase } from '../support/database.ts';
import { provisionedDatabase, TEST_SECRET_KEY } from '../support/envoi.ts';
import { call, expectError } from './helpers.ts';

const FIRST_ID = 'c1111111-1111-4111-8111-111111111111';
const OTHER_ID = 'c2222222-2222-4222-8222-222222222222';

let database: TestDatabase;
let config: Config;
let provisioned: Awaited<ReturnType<typeof applyBootstrap>>;
const urls: string[] = [];
const apps: FastifyInstance[] = [];

beforeAll(async () => {
  const service = (name: string, id: string) => ({
    name,
    id,
    restricted: false,
    permissions: ['email' as const, 'sms' as const],
    message_limit: { email: 100_000, sms: 100_000 },
    rate_limit: 10_000,
    templates: [
      { key: 'email', type: 'email' as const, versions: [{ name: 'Hi', subject: 'Hi', content: 'Hello ((name))' }] },
      { key: 'sms', type: 'sms' as const, versions: [{ name: 'Hi', content: 'Hello ((name))' }] },
    ],
    api_keys: [{ name: 'live', type: 'normal' as const }],
  });
  const file = { services: [service('Retrying service', FIRST_ID), service('Other service', OTHER_ID)] };
  ({ database, config, provisioned } = await provisionedDatabase(file));
  for (let i = 0; i < 2; i++) {
    const app = await createApp(createServices(config, database, TEST_SECRET_KEY));
    apps.push(app);
    urls.push(await app.listen({ port: 0, host: '127.0.0.1' }));
  }
});

afterAll(async () => {
  for (const app of apps) await app.close();
  await database?.close();
});

const email = (key: string | null, opts: { service?: 0 | 1; replica?: 0 | 1; name?: string } = {}) =>
  call(urls[opts.replica ?? 0]!, 'POST', '/v2/notifications/email', {
    key: provisioned.services[opts.service ?? 0]!.api_keys.live!,
    json: {
      email_address: 'someone@example.com',
      template_id: provisioned.services[opts.service ?? 0]!.templates.email,
      personalisation: { name: opts.name ?? 'Ada' },
    },
    headers: key === null ? {} : { 'idempotency-key': key },
  });

const stored = async (serviceId: string) =>
  Number(
    (
      await database.db
        .selectFrom('notifications')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('service_id', '=', serviceId)
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('Idempotency-Key on sends', () => {
  it('answers a retry as the first send, and creates nothing more', async () => {
    const before = await stored(FIRST_ID);
    const first = await email('retry-1');
    expect(first.status).toBe(201);
    const again = await email('retry-1', { replica: 1 });
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    // The key as the draft writes it (a quoted string) is the same key.
    expect((await email('"retry-1"')).body).toEqual(first.body);
    expect(await stored(FIRST_ID)).toBe(before + 1);
    // Without a key, each send is its own.
    expect((await email(null)).body.id).not.toBe((await email(null)).body.id);
  });

  it('refuses the key with another request: 422 in Notify’s format, nothing created', async () => {
    await email('retry-2', { name: 'Ada' });
    const before = await stored(FIRST_ID);
    expectError(
      await email('retry-2', { name: 'Grace' }),
      422,
      'IdempotencyKeyReusedError',
      'Idempotency-Key has already been used for a different request in the last 24 hours',
    );
    expect(await stored(FIRST_ID)).toBe(before);
  });

  it('makes one notification of two requests sent at once with one key, on two replicas', async () => {
    const before = await stored(FIRST_ID);
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => email('race-1', { replica: (i % 2) as 0 | 1 })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(201));
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(await stored(FIRST_ID)).toBe(before + 1);
  });

  it('keeps keys to their service, and for 24 hours', async () => {
    const mine = await email('shared-key');
    const theirs = await email('shared-key', { service: 1 });
    expect(theirs.status).toBe(201);
    expect(theirs.body.id).not.toBe(mine.body.id);

    await database.db
      .updateTable('idempotency_keys')
      .set({ created_at: new Date(Date.now() - 25 * 3_600_000) })
      .where('service_id', '=', FIRST_ID)
      .where('key', '=', 'shared-key')
      .execute();
    const later = await email('shared-key');
    expect(later.status).toBe(201);
    expect(later.body.id).not.toBe(mine.body.id);
  });

  it('refuses a key that cannot be one', async () => {
    expectError(
      await email('x'.repeat(256)),
      400,
      'BadRequestError',
      'Idempotency-Key must be 1 to 255 visible ASCII characters',
    );
  });
});
