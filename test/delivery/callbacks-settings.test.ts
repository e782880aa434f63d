/**
 * Setting a service's callbacks, directly and through the bootstrap file: the rules on URLs and tokens, the
 * Standard Webhooks secret, idempotent re-runs, and a bootstrapped callback that a real receiver can verify.
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { Db } from '../../src/platform/database/connection.ts';
import { applyBootstrap } from '../../src/notify/provisioning/apply-bootstrap.ts';
import {
  BootstrapError,
  checkBootstrapFile,
  type BootstrapFile,
} from '../../src/notify/provisioning/bootstrap-file.ts';
import {
  CallbackSettingsError,
  ensureWebhookSecret,
  listCallbacks,
  removeCallback,
  setCallback,
} from '../../src/notify/settings/callback-settings.ts';
import { SecretBox } from '../../src/platform/secret-box.ts';
import { queueStatusCallbacks } from '../../src/notify/repositories/callback-deliveries.ts';
import { startCallbackSender } from '../../src/notify/delivery/callbacks/sender.ts';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';
import { createService, insertNotification, testConfig } from './fixtures.ts';

const secrets = new SecretBox('callbacks-settings-secret-key-0123456789');
const ALLOWED = { allowedHosts: ['receiver.internal'] };

let tdb: TestDatabase;
let db: Db;

beforeAll(async () => {
  tdb = await openTestDatabase();
  db = tdb.db;
});

afterAll(async () => {
  await tdb?.close();
});

async function callbackRows(serviceId: string) {
  return db
    .selectFrom('service_callbacks')
    .selectAll()
    .where('service_id', '=', serviceId)
    .orderBy('callback_type')
    .execute();
}

describe('setting a callback', () => {
  it('stores the URL, seals the token and gives the service one whsec_ secret', async () => {
    const serviceId = await createService(db);
    const first = await setCallback(
      db,
      secrets,
      serviceId,
      'delivery_status',
      { url: 'https://example.gc.ca/status', bearerToken: 'token-1234567' },
      ALLOWED,
    );
    const second = await setCallback(
      db,
      secrets,
      serviceId,
      'inbound_sms',
      { url: 'https://example.gc.ca/inbound', bearerToken: 'token-abcdefg' },
      ALLOWED,
    );

    expect(first.webhookSecret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const keyBytes = Buffer.from(first.webhookSecret.slice('whsec_'.length), 'base64').length;
    expect(keyBytes).toBeGreaterThanOrEqual(24);
    expect(keyBytes).toBeLessThanOrEqual(32);
    expect(second.webhookSecret).toBe(first.webhookSecret);
    expect(await ensureWebhookSecret(db, secrets, serviceId)).toBe(first.webhookSecret);

    const service = await db
      .selectFrom('services')
      .select('webhook_secret_sealed')
      .where('id', '=', serviceId)
      .executeTakeFirstOrThrow();
    expect(service.webhook_secret_sealed).not.toContain(first.webhookSecret.slice(6));
    const rows = await callbackRows(serviceId);
    expect(rows.map((r) => [r.callback_type, r.url])).toEqual([
      ['delivery_status', 'https://example.gc.ca/status'],
      ['inbound_sms', 'https://example.gc.ca/inbound'],
    ]);
    expect(rows[0]!.bearer_token_sealed).not.toContain('token-1234567');
    expect(secrets.open(rows[0]!.bearer_token_sealed)).toBe('token-1234567');

    expect(await listCallbacks(db, serviceId)).toEqual([
      { type: 'delivery_status', url: 'https://example.gc.ca/status', disabledAt: null, disabledReason: null },
      { type: 'inbound_sms', url: 'https://example.gc.ca/inbound', disabledAt: null, disabledReason: null },
    ]);
  });

  it('replaces a callback of the same type, writes nothing when nothing changed, and removes one', async () => {
    const serviceId = await createService(db);
    await setCallback(
      db,
      secrets,
      serviceId,
      'complaint',
      { url: 'https://a.example/c', bearerToken: 'token-1234567' },
      ALLOWED,
    );
    const [before] = await callbackRows(serviceId);
    const same = await setCallback(
      db,
      secrets,
      serviceId,
      'complaint',
      { url: 'https://a.example/c', bearerToken: 'token-1234567' },
      ALLOWED,
    );
    expect(same.changed).toBe(false);
    expect(await callbackRows(serviceId)).toEqual([before]);

    const replaced = await setCallback(
      db,
      secrets,
      serviceId,
      'complaint',
      { url: 'https://b.example/c', bearerToken: 'token-7654321' },
      ALLOWED,
    );
    expect(replaced.changed).toBe(true);
    const rows = await callbackRows(serviceId);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.url).toBe('https://b.example/c');
    expect(secrets.open(rows[0]!.bearer_token_sealed)).toBe('token-7654321');

    expect(await removeCallback(db, serviceId, 'complaint')).toBe(true);
    expect(await callbackRows(serviceId)).toEqual([]);
  });

  it('refuses plain http unless the host is allowed, malformed URLs and short tokens, saying why', async () => {
    const serviceId = await createService(db);
    const attempt = (url: string, bearerToken: string) =>
      setCallback(db, secrets, serviceId, 'delivery_status', { url, bearerToken }, ALLOWED);

    await expect(attempt('http://example.gc.ca/cb', 'token-1234567')).rejects.toThrow(
      /must start with https:\/\/ \(example\.gc\.ca is not in CALLBACK_ALLOWED_HOSTS\)/,
    );
    await expect(attempt('not a url', 'token-1234567')).rejects.toThrow(/"not a url" is not a valid URL/);
    await expect(attempt('ftp://example.gc.ca/cb', 'token-1234567')).rejects.toThrow(/must start with https:\/\//);
    await expect(attempt('https://example.gc.ca/cb', 'short')).rejects.toThrow(
      /bearer_token: must be at least 10 characters/,
    );
    await expect(attempt('https://example.gc.ca/cb', 'short')).rejects.toBeInstanceOf(CallbackSettingsError);
    expect(await callbackRows(serviceId)).toEqual([]);

    // An operator's own receiver may be plain http.
    await attempt('http://receiver.internal:8080/cb', 'token-1234567');
    expect((await callbackRows(serviceId))[0]!.url).toBe('http://receiver.internal:8080/cb');
  });
});

describe('callbacks in the bootstrap file', () => {
  function file(callbacks: unknown): unknown {
    return { services: [{ name: `Callbacks ${Math.random().toString(36).slice(2, 8)}`, callbacks }] };
  }

  it('reports every callback problem at once, with the file’s other problems', () => {
    const data = {
      services: [
        {
          name: 'Broken',
          team: [{ name: 'A', email: 'not-an-email' }],
          callbacks: {
            delivery_status: { url: 'http://example.gc.ca/cb', bearer_token: 'token-1234567' },
            inbound_sms: { url: '::nope', bearer_token: 'short' },
          },
        },
      ],
    };
    let error: unknown;
    try {
      checkBootstrapFile(data, 'CA', []);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(BootstrapError);
    const message = (error as Error).message;
    expect(message).toMatch(/\/services\/0\/team\/0\/email/);
    expect(message).toMatch(/\/services\/0\/callbacks\/delivery_status\/url: must start with https:\/\//);
    expect(message).toMatch(/\/services\/0\/callbacks\/inbound_sms\/url: "::nope" is not a valid URL/);
    expect(message).toMatch(/\/services\/0\/callbacks\/inbound_sms\/bearer_token: must be at least 10 characters/);

    expect(() =>
      checkBootstrapFile(file({ returned_letter: { url: 'https://x.example', bearer_token: 'token-1234567' } }), 'CA'),
    ).toThrow(/callbacks: must NOT have additional properties/);
    // Without the operator's list, a plain http URL is judged when the file is applied.
    expect(() =>
      checkBootstrapFile(file({ complaint: { url: 'http://x.example/c', bearer_token: 'token-1234567' } }), 'CA'),
    ).not.toThrow();
  });

  it('refuses, when applied, a plain http URL for a host that is not allowed', async () => {
    const checked = checkBootstrapFile(
      file({ complaint: { url: 'http://x.example/c', bearer_token: 'token-1234567' } }),
      'CA',
    ) as BootstrapFile;
    await expect(
      applyBootstrap(db, secrets, checked, {
        phoneRegion: 'CA',
        emailDomain: 'notify.test.example',
        callbacks: { allowedHosts: [] },
      }),
    ).rejects.toThrow(/complaint callback is not valid: url: must start with https:\/\//);
  });

  it('round-trips: applied twice it changes nothing, and the secret it prints verifies real callbacks', async () => {
    const received: { headers: http.IncomingHttpHeaders; body: string }[] = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/status`;
    const config = testConfig({ CALLBACK_ALLOWED_HOSTS: '127.0.0.1' });
    try {
      const data = {
        services: [
          {
            name: 'Bootstrapped callbacks',
            templates: [{ key: 'hello', type: 'sms', versions: [{ name: 'Hello', content: 'Hello' }] }],
            callbacks: {
              delivery_status: { url, bearer_token: 'bootstrap-token-1' },
              complaint: { url: 'https://complaints.example.gc.ca/hook', bearer_token: 'bootstrap-token-2' },
            },
          },
          { name: 'No callbacks' },
        ],
      };
      const first = await applyBootstrap(
        db,
        secrets,
        checkBootstrapFile(data, 'CA', config.callbacks.allowedHosts),
        config,
      );
      const service = first.services[0]!;
      expect(service.webhook_secret).toMatch(/^whsec_/);
      expect(first.services[1]!.webhook_secret).toBeUndefined();
      const rowsBefore = await callbackRows(service.id);
      const secretBefore = await db
        .selectFrom('services')
        .select('webhook_secret_sealed')
        .where('id', '=', service.id)
        .executeTakeFirstOrThrow();
      expect(rowsBefore.map((r) => r.callback_type)).toEqual(['complaint', 'delivery_status']);

      const second = await applyBootstrap(
        db,
        secrets,
        checkBootstrapFile(data, 'CA', config.callbacks.allowedHosts),
        config,
      );
      expect(second).toEqual(first);
      expect(await callbackRows(service.id)).toEqual(rowsBefore);
      expect(
        await db
          .selectFrom('services')
          .select('webhook_secret_sealed')
          .where('id', '=', service.id)
          .executeTakeFirstOrThrow(),
      ).toEqual(secretBefore);

      // A status change for the bootstrapped service reaches the receiver, signed with the printed secret.
      const notificationId = await insertNotification(db, {
        serviceId: service.id,
        template: { id: service.templates.hello!, version: 1 },
        type: 'sms',
        to: '+16135550123',
        body: 'Hello',
      });
      await sql`
        WITH changed AS (UPDATE notifications SET status = 'delivered', updated_at = now() WHERE id = ${notificationId}
                         RETURNING id, service_id, status, provider_response, updated_at),
             queued AS (${queueStatusCallbacks('changed')})
        SELECT count(*) FROM changed`.execute(db);
      const sender = startCallbackSender({ db, config, secrets });
      await sender.drain();
      await sender.stop();
      expect(received).toHaveLength(1);
      const r = received[0]!;
      expect(r.headers.authorization).toBe('Bearer bootstrap-token-1');
      const key = Buffer.from(service.webhook_secret!.slice('whsec_'.length), 'base64');
      const mac = createHmac('sha256', key)
        .update(`${r.headers['webhook-id']}.${r.headers['webhook-timestamp']}.${r.body}`)
        .digest('base64');
      expect(r.headers['webhook-signature']).toBe(`v1,${mac}`);
      expect(JSON.parse(r.body)).toMatchObject({
        id: notificationId,
        status: 'delivered',
        notification_type: 'sms',
        to: '+16135550123',
      });

      // Leaving a type out of the file removes it; leaving `callbacks` out leaves them alone.
      const fewer = structuredClone(data) as { services: { callbacks?: Record<string, unknown> }[] };
      delete fewer.services[0]!.callbacks!.complaint;
      await applyBootstrap(db, secrets, checkBootstrapFile(fewer, 'CA', config.callbacks.allowedHosts), config);
      expect((await callbackRows(service.id)).map((r) => r.callback_type)).toEqual(['delivery_status']);
      delete fewer.services[0]!.callbacks;
      const third = await applyBootstrap(
        db,
        secrets,
        checkBootstrapFile(fewer, 'CA', config.callbacks.allowedHosts),
        config,
      );
      expect((await callbackRows(service.id)).map((r) => r.callback_type)).toEqual(['delivery_status']);
      expect(third.services[0]!.webhook_secret).toBe(service.webhook_secret);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
