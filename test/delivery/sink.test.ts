/** The sink providers: what a person reading `envoi outbox` sees. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { latestOutbox } from '../../src/notify/delivery/outbox.ts';
import { startWorker } from '../../src/notify/delivery/worker.ts';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';
import {
  createService,
  createTemplate,
  insertNotification,
  notification,
  testConfig,
  type TemplateRef,
} from './fixtures.ts';

let tdb: TestDatabase;
let serviceId: string;
let otherServiceId: string;
let emailTemplate: TemplateRef;
let smsTemplate: TemplateRef;

beforeAll(async () => {
  tdb = await openTestDatabase();
  serviceId = await createService(tdb.db, { name: 'Passport Office', localPart: 'passports' });
  otherServiceId = await createService(tdb.db, { name: 'Tax Office', localPart: 'tax' });
  emailTemplate = await createTemplate(tdb.db, serviceId, {
    type: 'email',
    subject: 'Your application',
    content: 'Dear ((name)),\n\nYour application is **approved**.',
  });
  smsTemplate = await createTemplate(tdb.db, serviceId, { type: 'sms', content: '((message))' });
});

afterAll(async () => {
  await tdb?.close();
});

beforeEach(async () => {
  await tdb.db.deleteFrom('notifications').execute();
  await tdb.db.deleteFrom('outbox').execute();
});

async function deliverAll(): Promise<void> {
  const worker = startWorker({ db: tdb.db, config: testConfig({ EMAIL_PROVIDER: 'sink', SMS_PROVIDER: 'sink' }) });
  await worker.drain();
  await worker.stop();
}

describe('sink providers', () => {
  it('keep the rendered email in the outbox and mark it delivered', async () => {
    const id = await insertNotification(tdb.db, {
      serviceId,
      template: emailTemplate,
      type: 'email',
      to: 'alice@example.com',
      subject: 'Your application',
      body: 'Dear <Alice>,\n\nYour application is **approved**.',
      personalisation: { name: '<Alice>' },
      replyTo: 'help@passports.example.ca',
      unsubscribeUrl: 'https://passports.example.ca/unsubscribe/123',
    });
    await deliverAll();

    const row = await notification(tdb.db, id);
    expect(row.status).toBe('delivered');
    expect(row.provider).toBe('sink');
    expect(row.sent_at).not.toBeNull();
    expect(row.updated_at).not.toBeNull();

    const [entry] = await latestOutbox(tdb.db, { limit: 10 });
    expect(entry).toMatchObject({
      notificationId: id,
      serviceId,
      channel: 'email',
      recipient: 'alice@example.com',
      sender: '"Passport Office" <passports@notify.test.example>',
      subject: 'Your application',
    });
    expect(entry!.body).toContain('Dear <Alice>');
    expect(entry!.body).toContain('approved');
    // In HTML the personalisation is text, not markup.
    expect(entry!.html).toContain('&lt;Alice&gt;');
    expect(entry!.html).not.toContain('<Alice>');
    expect(entry!.html).toMatch(/<strong>approved<\/strong>|<b>approved<\/b>/);
    expect(entry!.headers).toMatchObject({
      'Message-ID': `<${id}@notify.test.example>`,
      'Reply-To': 'help@passports.example.ca',
      'List-Unsubscribe': '<https://passports.example.ca/unsubscribe/123>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
    expect(row.provider_reference).toBe(String(entry!.id));
  });

  it('keep text messages in the outbox, billed by fragment', async () => {
    const long = 'a'.repeat(200);
    const id = await insertNotification(tdb.db, {
      serviceId,
      template: smsTemplate,
      type: 'sms',
      to: '+16135550123',
      body: long,
      personalisation: { message: long },
      replyTo: 'PASSPORTS',
      billableUnits: 0,
    });
    const defaultSender = await insertNotification(tdb.db, {
      serviceId,
      template: smsTemplate,
      type: 'sms',
      to: '+16135550124',
      body: 'short',
      personalisation: { message: 'short' },
      billableUnits: 1,
    });
    await deliverAll();

    const row = await notification(tdb.db, id);
    expect(row.status).toBe('delivered');
    expect(row.billable_units).toBe(2);
    expect((await notification(tdb.db, defaultSender)).billable_units).toBe(1);

    const entries = await latestOutbox(tdb.db, { limit: 10 });
    const byId = new Map(entries.map((e) => [e.notificationId, e]));
    expect(byId.get(id)).toMatchObject({
      channel: 'sms',
      recipient: '+16135550123',
      sender: 'PASSPORTS',
      body: long,
      html: null,
    });
    expect(byId.get(defaultSender)).toMatchObject({ sender: 'Passport Office', body: 'short' });
  });

  it('list the newest first, for one service when asked', async () => {
    const ids: string[] = [];
    for (const [svc, to] of [
      [serviceId, 'first@example.com'],
      [otherServiceId, 'other@example.com'],
      [serviceId, 'second@example.com'],
    ] as const) {
      ids.push(
        await insertNotification(tdb.db, {
          serviceId: svc,
          template: emailTemplate,
          type: 'email',
          to,
          subject: 'Hi',
          body: 'Hi',
          personalisation: { name: 'x' },
        }),
      );
      await deliverAll();
    }
    expect((await latestOutbox(tdb.db, { limit: 10 })).map((e) => e.recipient)).toEqual([
      'second@example.com',
      'other@example.com',
      'first@example.com',
    ]);
    expect((await latestOutbox(tdb.db, { limit: 1, serviceId })).map((e) => e.recipient)).toEqual([
      'second@example.com',
    ]);
    expect((await latestOutbox(tdb.db, { limit: 10, serviceId: otherServiceId })).map((e) => e.notificationId)).toEqual(
      [ids[1]],
    );
  });
});
