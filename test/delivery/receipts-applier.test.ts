/**
 * The receipt applier against a real database (PGlite, or PostgreSQL with DATABASE_URL): statuses, suppressions,
 * complaints and callbacks, the status rules, receipts that beat the worker, and batching.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type KyselyPlugin } from 'kysely';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';
import {
  createService,
  createTemplate,
  insertNotifications,
  notification,
  waitFor,
  type TemplateRef,
} from './fixtures.ts';
import { createReceiptApplier, type ReceiptApplier } from '../../src/notify/delivery/receipts/applier.ts';
import type { Receipt, StatusReceipt } from '../../src/notify/delivery/receipts/types.ts';
import { suppressedRecipients, suppressionKey } from '../../src/notify/repositories/suppressions.ts';

const logs: { level: string; msg: string }[] = [];
const logger = {
  info: (_: object, msg?: string) => logs.push({ level: 'info', msg: msg ?? '' }),
  warn: (_: object, msg?: string) => logs.push({ level: 'warn', msg: msg ?? '' }),
  error: (_: object, msg?: string) => logs.push({ level: 'error', msg: msg ?? '' }),
};

let database: TestDatabase;
let applier: ReceiptApplier;
let serviceId: string;
let quietServiceId: string;
let emailTemplate: TemplateRef;
let smsTemplate: TemplateRef;

beforeAll(async () => {
  database = await openTestDatabase();
  const db = database.db;
  serviceId = await createService(db);
  quietServiceId = await createService(db);
  emailTemplate = await createTemplate(db, serviceId, { type: 'email', subject: 'Hi', content: 'Hello' });
  smsTemplate = await createTemplate(db, serviceId, { type: 'sms', content: 'Hello' });
  for (const type of ['delivery_status', 'complaint'] as const) {
    await db
      .insertInto('service_callbacks')
      .values({
        service_id: serviceId,
        callback_type: type,
        url: 'https://callbacks.example/hook',
        bearer_token_sealed: 'sealed',
      })
      .execute();
  }
  applier = createReceiptApplier(db, { logger, retryForMs: 1500 });
}, 60_000);

afterAll(async () => {
  await applier?.close();
  await database?.close();
});

/** Notifications as the worker leaves them: handed to a provider, with its reference. */
async function sent(
  count: number,
  opts: { type?: 'email' | 'sms'; status?: string; provider?: string; service?: string } = {},
) {
  const type = opts.type ?? 'email';
  const service = opts.service ?? serviceId;
  const ids = await insertNotifications(
    database.db,
    Array.from({ length: count }, () => ({
      serviceId: service,
      template: type === 'email' ? emailTemplate : smsTemplate,
      type,
      to:
        type === 'email'
          ? `person-${randomUUID().slice(0, 8)}@Example.com`
          : `+1613555${String(Math.floor(Math.random() * 10000)).padStart(4, '0')}`,
      body: 'Hello',
    })),
  );
  const references = ids.map(() => randomUUID());
  const provider = opts.provider ?? (type === 'email' ? 'ses' : 'aws-sms');
  await sql`UPDATE notifications n SET status = ${opts.status ?? 'sending'}, provider = ${provider}, provider_reference = v.reference, sent_at = now()
    FROM unnest(${ids}::uuid[], ${references}::text[]) AS v(id, reference) WHERE n.id = v.id`.execute(database.db);
  return ids.map((id, i) => ({ id, reference: references[i]!, provider }));
}

function status(
  ref: { provider: string; reference: string },
  s: StatusReceipt['status'],
  at: Date,
  extra: Partial<StatusReceipt> = {},
): StatusReceipt {
  return {
    kind: 'status',
    target: { provider: ref.provider, reference: ref.reference },
    status: s,
    response: `said ${s}`,
    at,
    ...extra,
  };
}

async function callbacksFor(subjectId: string) {
  return database.db.selectFrom('callback_deliveries').selectAll().where('subject_id', '=', subjectId).execute();
}

describe('receipt applier', () => {
  it('moves sending notifications to their outcome, with the receipt time and words, and queues callbacks', async () => {
    const [a, b] = await sent(2);
    const at = new Date(Date.now() - 60_000);
    await applier.submit([status(a!, 'delivered', at), status(b!, 'temporary-failure', at)]);
    const rowA = await notification(database.db, a!.id);
    expect(rowA.status).toBe('delivered');
    expect(rowA.provider_response).toBe('said delivered');
    expect(rowA.updated_at?.getTime()).toBe(at.getTime());
    expect((await notification(database.db, b!.id)).status).toBe('temporary-failure');
    const [callback] = await callbacksFor(a!.id);
    expect(callback).toMatchObject({
      service_id: serviceId,
      callback_type: 'delivery_status',
      status: 'delivered',
      provider_response: 'said delivered',
    });
    expect(callback!.status_at?.getTime()).toBe(at.getTime());
  });

  it('finds a notification by its id as well (VERP bounces)', async () => {
    const [a] = await sent(1, { provider: 'smtp', status: 'delivered' });
    await applier.submit([
      {
        kind: 'status',
        target: { notificationId: a!.id },
        status: 'permanent-failure',
        response: '550 no such user',
        at: new Date(),
        bounce: true,
        suppress: 'hard-bounce',
      },
    ]);
    expect((await notification(database.db, a!.id)).status).toBe('permanent-failure');
  });

  it('puts hard bounces and opt-outs on the service suppression list, in normalised form', async () => {
    const [email] = await sent(1);
    const [sms] = await sent(1, { type: 'sms' });
    await applier.submit([
      status(email!, 'permanent-failure', new Date(), { suppress: 'hard-bounce', bounce: true }),
      status(sms!, 'permanent-failure', new Date(), { suppress: 'opted-out' }),
    ]);
    const rows = await database.db
      .selectFrom('suppressions')
      .selectAll()
      .where('notification_id', 'in', [email!.id, sms!.id])
      .execute();
    const emailRow = await notification(database.db, email!.id);
    const smsRow = await notification(database.db, sms!.id);
    expect(rows.map((r) => [r.channel, r.recipient, r.reason]).sort()).toEqual(
      [
        ['email', emailRow.normalised_to, 'hard-bounce'],
        ['sms', smsRow.normalised_to, 'opted-out'],
      ].sort(),
    );
    const keys = [
      { serviceId, channel: 'email' as const, recipient: emailRow.normalised_to },
      { serviceId, channel: 'sms' as const, recipient: smsRow.normalised_to },
      { serviceId: quietServiceId, channel: 'email' as const, recipient: emailRow.normalised_to },
      { serviceId, channel: 'email' as const, recipient: 'someone-else@example.com' },
    ];
    const suppressed = await suppressedRecipients(database.db, keys);
    expect([...suppressed].sort()).toEqual([suppressionKey(keys[0]!), suppressionKey(keys[1]!)].sort());
  });

  it('records a complaint, suppresses the address and queues the complaint callback; the status stays', async () => {
    const [a] = await sent(1, { status: 'delivered' });
    const at = new Date(Date.now() - 5_000);
    const complaint: Receipt = {
      kind: 'complaint',
      target: { provider: a!.provider, reference: a!.reference },
      complaintType: 'abuse',
      at,
    };
    await applier.submit([complaint]);
    await applier.submit([complaint]); // SNS may deliver the same event twice
    const complaints = await database.db
      .selectFrom('complaints')
      .selectAll()
      .where('notification_id', '=', a!.id)
      .execute();
    expect(complaints).toHaveLength(1);
    expect(complaints[0]).toMatchObject({
      service_id: serviceId,
      complaint_type: 'abuse',
      provider_reference: a!.reference,
    });
    expect(complaints[0]!.complaint_date?.getTime()).toBe(at.getTime());
    expect((await notification(database.db, a!.id)).status).toBe('delivered');
    const suppression = await database.db
      .selectFrom('suppressions')
      .selectAll()
      .where('notification_id', '=', a!.id)
      .executeTakeFirst();
    expect(suppression?.reason).toBe('complaint');
    const callbacks = await callbacksFor(complaints[0]!.id);
    expect(callbacks.map((c) => c.callback_type)).toEqual(['complaint']);
  });

  it('queues no callback for a service without one', async () => {
    const [a] = await sent(1, { service: quietServiceId });
    await applier.submit([status(a!, 'delivered', new Date())]);
    expect((await notification(database.db, a!.id)).status).toBe('delivered');
    expect(await callbacksFor(a!.id)).toEqual([]);
  });

  it('applies the status rules: pending only from sending, final stays final except a bounce after delivery', async () => {
    const [toPending, pendingToDelivered, finalStays, bounced, failedTwice] = await sent(5);
    const t = Date.now() - 100_000;
    await applier.submit([status(toPending!, 'pending', new Date(t))]);
    expect((await notification(database.db, toPending!.id)).status).toBe('pending');
    expect(await callbacksFor(toPending!.id)).toEqual([]); // pending is not an outcome

    await applier.submit([status(pendingToDelivered!, 'pending', new Date(t))]);
    await applier.submit([status(pendingToDelivered!, 'delivered', new Date(t + 1000))]);
    expect((await notification(database.db, pendingToDelivered!.id)).status).toBe('delivered');

    await applier.submit([status(finalStays!, 'delivered', new Date(t))]);
    await applier.submit([status(finalStays!, 'temporary-failure', new Date(t + 1000))]);
    await applier.submit([status(finalStays!, 'pending', new Date(t + 2000))]);
    const stayed = await notification(database.db, finalStays!.id);
    expect(stayed.status).toBe('delivered');
    expect(stayed.updated_at?.getTime()).toBe(t);
    expect(logs.some((l) => l.level === 'info' && /already final/.test(l.msg))).toBe(true);

    await applier.submit([status(bounced!, 'delivered', new Date(t))]);
    await applier.submit([status(bounced!, 'permanent-failure', new Date(t + 1000), { bounce: true })]);
    expect((await notification(database.db, bounced!.id)).status).toBe('permanent-failure');
    expect((await callbacksFor(bounced!.id)).map((c) => c.status)).toEqual(['delivered', 'permanent-failure']);

    // A bounce turns only `delivered` into a failure: a second failure changes nothing and calls back once.
    await applier.submit([status(failedTwice!, 'permanent-failure', new Date(t))]);
    await applier.submit([status(failedTwice!, 'temporary-failure', new Date(t + 5), { bounce: true })]);
    expect((await notification(database.db, failedTwice!.id)).status).toBe('permanent-failure');
    expect((await callbacksFor(failedTwice!.id)).map((c) => c.status)).toEqual(['permanent-failure']);
  });

  it('applies receipts for one notification in one batch in time order, as if they had come one by one', async () => {
    const [a, b, c] = await sent(3);
    const t = Date.now() - 50_000;
    await applier.submit([
      // a: delivered after pending, listed out of order → delivered at t+2
      status(a!, 'delivered', new Date(t + 2000)),
      status(a!, 'pending', new Date(t + 1000)),
      // b: a failure, then a late delivery report: the failure was final → permanent-failure at t+1
      status(b!, 'delivered', new Date(t + 2000)),
      status(b!, 'permanent-failure', new Date(t + 1000)),
      // c: delivered, then a bounce → permanent-failure
      status(c!, 'permanent-failure', new Date(t + 3000), { bounce: true, suppress: 'hard-bounce' }),
      status(c!, 'delivered', new Date(t + 1000)),
    ]);
    const rowA = await notification(database.db, a!.id);
    expect([rowA.status, rowA.updated_at?.getTime()]).toEqual(['delivered', t + 2000]);
    const rowB = await notification(database.db, b!.id);
    expect([rowB.status, rowB.updated_at?.getTime()]).toEqual(['permanent-failure', t + 1000]);
    expect((await notification(database.db, c!.id)).status).toBe('permanent-failure');
  });

  it('drops receipts for unknown notifications without failing, after trying again for a while', async () => {
    const before = logs.length;
    await applier.submit([status({ provider: 'ses', reference: 'never-sent' }, 'delivered', new Date())]);
    await waitFor(
      async () => logs.slice(before).some((l) => /unknown notification dropped/.test(l.msg)),
      'the unknown receipt to be dropped',
    );
    // Malformed ones are dropped at once.
    await applier.submit([
      { kind: 'status', target: { notificationId: 'not-a-uuid' }, status: 'delivered', response: '', at: new Date() },
    ]);
    expect(logs.slice(before).some((l) => /not a UUID/.test(l.msg))).toBe(true);
  });

  it('keeps a receipt that beats the worker until the provider reference is committed', async () => {
    const [id] = await insertNotifications(database.db, [
      { serviceId, template: emailTemplate, type: 'email', to: 'early@example.com', body: 'Hi' },
    ]);
    const reference = randomUUID();
    await applier.submit([status({ provider: 'ses', reference }, 'delivered', new Date())]);
    expect((await notification(database.db, id!)).status).toBe('created');
    await database.db
      .updateTable('notifications')
      .set({ status: 'sending', provider: 'ses', provider_reference: reference })
      .where('id', '=', id!)
      .execute();
    await waitFor(
      async () => (await notification(database.db, id!)).status === 'delivered',
      'the early receipt to apply',
    );
  });

  it('applies many receipts in a few statements', async () => {
    let statements = 0;
    const counting: KyselyPlugin = {
      transformQuery: (args) => {
        statements += 1;
        return args.node;
      },
      transformResult: async (args) => args.result,
    };
    const batching = createReceiptApplier(database.db.withPlugin(counting), { logger });
    try {
      const refs = await sent(1000, { type: 'sms' });
      const at = new Date();
      await Promise.all(refs.map((ref) => batching.submit([status(ref, 'delivered', at)])));
      expect(statements).toBeLessThanOrEqual(5);
      const counts = await database.db
        .selectFrom('notifications')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where(
          'id',
          'in',
          refs.map((r) => r.id),
        )
        .where('status', '=', 'delivered')
        .executeTakeFirstOrThrow();
      expect(Number(counts.n)).toBe(1000);
    } finally {
      await batching.close();
    }
  }, 60_000);
});
