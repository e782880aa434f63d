/**
 * What the worker does with a provider's answer beyond delivered/failed: throttling slows the channel down without
 * using up the message's attempts, and every outcome queues the service's delivery-status callback.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startWorker } from '../../src/notify/delivery/worker.ts';
import type { Providers, SmsProvider } from '../../src/notify/delivery/providers/index.ts';
import { createSinkEmailProvider, createSinkSmsProvider } from '../../src/notify/delivery/providers/sink.ts';
import type { ProviderResult, SmsMessage } from '../../src/notify/delivery/providers/types.ts';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';
import {
  createService,
  createTemplate,
  insertNotification,
  notification,
  testConfig,
  waitFor,
  waitForStatus,
  type TemplateRef,
} from './fixtures.ts';

let tdb: TestDatabase;
let serviceId: string;
let quietServiceId: string;
let emailTemplate: TemplateRef;
let smsTemplate: TemplateRef;

beforeAll(async () => {
  tdb = await openTestDatabase();
  serviceId = await createService(tdb.db, { name: 'Tax Office', localPart: 'tax' });
  quietServiceId = await createService(tdb.db, { name: 'Parks Office', localPart: 'parks' });
  emailTemplate = await createTemplate(tdb.db, serviceId, { type: 'email', subject: 'Hi', content: 'Hello' });
  smsTemplate = await createTemplate(tdb.db, serviceId, { type: 'sms', content: 'Your code' });
  await tdb.db
    .insertInto('service_callbacks')
    .values({
      service_id: serviceId,
      callback_type: 'delivery_status',
      url: 'https://receiver.example.ca/status',
      bearer_token_sealed: 'x',
    })
    .execute();
});

afterAll(async () => {
  await tdb?.close();
});

beforeEach(async () => {
  await tdb.db.deleteFrom('notifications').execute();
  await tdb.db.deleteFrom('callback_deliveries').execute();
});

/** A text message provider that asks to slow down the first `times` sends, then takes every message. */
function throttlingSms(times: number): SmsProvider & { calls: SmsMessage[] } {
  const calls: SmsMessage[] = [];
  return {
    name: 'busy-sms',
    calls,
    async send(msg): Promise<ProviderResult> {
      calls.push(msg);
      if (calls.length <= times) return { outcome: 'throttled', response: 'Rate exceeded', retryAfterMs: 20 };
      return { outcome: 'accepted', reference: `ref-${calls.length}`, response: 'queued' };
    },
    async close() {},
  };
}

function sms(to = '+16135550100') {
  return { serviceId, template: smsTemplate, type: 'sms' as const, to, body: 'Your code' };
}

describe('a provider that throttles', () => {
  it('gets the message again later without using up its attempts', async () => {
    const busy = throttlingSms(4);
    const providers: Providers = { email: createSinkEmailProvider(tdb.db), sms: busy, close: async () => {} };
    // Two attempts at most: four throttled answers would have failed the message if they counted.
    const worker = startWorker({ db: tdb.db, config: testConfig({ WORKER_MAX_ATTEMPTS: '2' }), providers });
    try {
      const id = await insertNotification(tdb.db, sms());
      const row = await waitForStatus(tdb.db, id, 'sending');
      expect(busy.calls.length).toBe(5);
      expect(row.provider).toBe('busy-sms');
      expect(row.provider_reference).toBe('ref-5');
      expect(row.attempts).toBe(1);
    } finally {
      await worker.stop();
    }
  });

  it('does not hold back the other channel', async () => {
    const stuck: SmsProvider = {
      name: 'stuck-sms',
      send: async () => ({ outcome: 'throttled', response: 'Rate exceeded', retryAfterMs: 60_000 }),
      close: async () => {},
    };
    const providers: Providers = { email: createSinkEmailProvider(tdb.db), sms: stuck, close: async () => {} };
    const worker = startWorker({ db: tdb.db, config: testConfig(), providers });
    try {
      const texts = await Promise.all([0, 1, 2].map((i) => insertNotification(tdb.db, sms(`+1613555010${i}`))));
      const mail = await insertNotification(tdb.db, {
        serviceId,
        template: emailTemplate,
        type: 'email',
        to: 'a@example.com',
        subject: 'Hi',
        body: 'Hello',
      });
      await waitForStatus(tdb.db, mail, 'delivered');
      for (const id of texts) {
        const row = await notification(tdb.db, id);
        expect(row.status).toBe('created');
        // Waiting out the provider's Retry-After, not failing.
        expect(row.next_attempt_at.getTime()).toBeGreaterThan(Date.now() + 30_000);
      }
    } finally {
      await worker.stop();
    }
  });
});

describe('delivery-status callbacks', () => {
  it('are queued with the outcome for services that have one, and only for them', async () => {
    const quietTemplate = await createTemplate(tdb.db, quietServiceId, { type: 'sms', content: 'Hi' });
    const providers: Providers = {
      email: createSinkEmailProvider(tdb.db),
      sms: createSinkSmsProvider(tdb.db),
      close: async () => {},
    };
    const worker = startWorker({ db: tdb.db, config: testConfig(), providers });
    try {
      const watched = await insertNotification(tdb.db, sms());
      const quiet = await insertNotification(tdb.db, {
        serviceId: quietServiceId,
        template: quietTemplate,
        type: 'sms',
        to: '+16135550199',
        body: 'Hi',
      });
      await waitForStatus(tdb.db, watched, 'delivered');
      await waitForStatus(tdb.db, quiet, 'delivered');
      const queued = await waitFor(async () => {
        const rows = await tdb.db.selectFrom('callback_deliveries').selectAll().execute();
        return rows.length > 0 ? rows : undefined;
      }, 'a queued callback');
      expect(queued).toHaveLength(1);
      expect(queued[0]).toMatchObject({
        service_id: serviceId,
        callback_type: 'delivery_status',
        subject_id: watched,
        status: 'delivered',
        state: 'pending',
      });
    } finally {
      await worker.stop();
    }
  });
});

describe('the suppression list', () => {
  it('fails a send to a suppressed recipient at once, without reaching the provider', async () => {
    const busy = throttlingSms(0);
    const providers: Providers = { email: createSinkEmailProvider(tdb.db), sms: busy, close: async () => {} };
    await tdb.db
      .insertInto('suppressions')
      .values({ service_id: serviceId, channel: 'sms', recipient: '+16135550111', reason: 'opted-out' })
      .execute();
    const worker = startWorker({ db: tdb.db, config: testConfig(), providers });
    try {
      const blocked = await insertNotification(tdb.db, sms('+16135550111'));
      const allowed = await insertNotification(tdb.db, sms('+16135550112'));
      const row = await waitForStatus(tdb.db, blocked, 'permanent-failure');
      expect(row.provider_response).toBe("The phone number is on the service's suppression list");
      await waitForStatus(tdb.db, allowed, 'sending');
      expect(busy.calls.map((c) => c.to)).toEqual(['+16135550112']);
    } finally {
      await worker.stop();
    }
  });
});
