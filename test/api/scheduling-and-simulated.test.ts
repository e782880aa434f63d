/**
 * With the delivery worker running: scheduled_for is honoured (GC Notify, ≤ 96 h) and echoed; smoke-test
 * ("simulated") recipients are accepted but never stored; test-key messages end in the status their recipient
 * names (reference §9).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEnvoi, type RunningEnvoi } from '../support/envoi.ts';
import { fixture } from './fixture.ts';
import { call, expectError, pollUntilFinal, type ApiResponse } from './helpers.ts';
import { expectSchema } from './response-schemas.ts';

type Provisioned = RunningEnvoi['provisioned']['services'][number];

let envoi: RunningEnvoi;
let live: Provisioned;

beforeAll(async () => {
  envoi = await startEnvoi({ bootstrap: fixture(), worker: true });
  live = envoi.provisioned.services[0];
});

afterAll(async () => {
  await envoi?.stop();
});

const sendEmail = (key: string, json: object) =>
  call(envoi.url, 'POST', '/v2/notifications/email', {
    key,
    json: { template_id: live.templates.email, personalisation: { name: 'Foo' }, ...json },
  });
const sendSms = (key: string, json: object) =>
  call(envoi.url, 'POST', '/v2/notifications/sms', {
    key,
    json: { template_id: live.templates.sms, personalisation: { name: 'Foo' }, ...json },
  });
const getNotification = (id: string, key = live.api_keys.live) =>
  call(envoi.url, 'GET', `/v2/notifications/${id}`, { key });

/** A whole second `hours` from now, as `YYYY-MM-DDTHH:MM:SS` (no zone: UTC) and as Notify prints it. */
function hoursAhead(hours: number): { naive: string; printed: string; date: Date } {
  const date = new Date(Math.floor(Date.now() / 1000) * 1000 + hours * 3_600_000);
  const iso = date.toISOString(); // 2026-05-14T12:15:30.000Z
  return { naive: iso.slice(0, 19), printed: `${iso.slice(0, 19)}.000000Z`, date };
}

function created(res: ApiResponse, schema: 'postEmailResponse' | 'postSmsResponse'): string {
  expect(res.status).toBe(201);
  expectSchema(schema, res.body);
  return res.body.id;
}

describe('scheduled_for', () => {
  it('is echoed in the POST response and in GET, in Notify’s date format', async () => {
    const when = hoursAhead(2);
    const res = await sendEmail(live.api_keys.live, { email_address: 'later@example.com', scheduled_for: when.naive });
    const id = created(res, 'postEmailResponse');
    expect(res.body.scheduled_for).toBe(when.printed);

    const read = await getNotification(id);
    expect(read.status).toBe(200);
    expectSchema('notification', read.body);
    expect(read.body.scheduled_for).toBe(when.printed);
  });

  it('reads a time zone offset and answers in UTC', async () => {
    const when = hoursAhead(3);
    const local = new Date(when.date.getTime() + 2 * 3_600_000).toISOString().slice(0, 19); // the same instant at UTC+2
    const res = await sendSms(live.api_keys.live, { phone_number: '+16135550199', scheduled_for: `${local}+02:00` });
    created(res, 'postSmsResponse');
    expect(res.body.scheduled_for).toBe(when.printed);
    expect((await getNotification(res.body.id)).body.scheduled_for).toBe(when.printed);
  });

  it('accepts up to 96 hours ahead', async () => {
    const when = hoursAhead(95);
    const res = await sendEmail(live.api_keys.live, {
      email_address: 'much-later@example.com',
      scheduled_for: when.naive,
    });
    created(res, 'postEmailResponse');
    expect(res.body.scheduled_for).toBe(when.printed);
  });

  it('is null when not given or given as null', async () => {
    const res = await sendEmail(live.api_keys.live, { email_address: 'now@example.com', scheduled_for: null });
    const id = created(res, 'postEmailResponse');
    expect(res.body.scheduled_for).toBeNull();
    const final = await pollUntilFinal(envoi.url, live.api_keys.live, id);
    expect(final.scheduled_for).toBeNull();
  });

  it('is honoured: a scheduled message stays unsent while messages sent after it are delivered', async () => {
    const when = hoursAhead(1);
    const scheduledLive = created(
      await sendEmail(live.api_keys.live, { email_address: 'later@example.com', scheduled_for: when.naive }),
      'postEmailResponse',
    );
    const scheduledTest = created(
      await sendEmail(live.api_keys.test, { email_address: 'later@example.com', scheduled_for: when.naive }),
      'postEmailResponse',
    );
    const immediateLive = created(
      await sendEmail(live.api_keys.live, { email_address: 'now@example.com' }),
      'postEmailResponse',
    );
    const immediateTest = created(
      await sendEmail(live.api_keys.test, { email_address: 'now@example.com' }),
      'postEmailResponse',
    );

    expect((await pollUntilFinal(envoi.url, live.api_keys.live, immediateLive)).status).toBe('delivered');
    expect((await pollUntilFinal(envoi.url, live.api_keys.test, immediateTest)).status).toBe('delivered');

    for (const id of [scheduledLive, scheduledTest]) {
      const read = await getNotification(id);
      expectSchema('notification', read.body);
      expect(read.body).toMatchObject({
        status: 'created',
        sent_at: null,
        completed_at: null,
        scheduled_for: when.printed,
      });
    }
  });
});

describe('simulated recipients', () => {
  it('email: 201 like any send, but the notification is never stored (GET → 404)', async () => {
    for (const address of [
      'simulate-delivered@notifications.service.gov.uk',
      'simulate-delivered-2@notifications.service.gov.uk',
      'simulate-delivered-3@notifications.service.gov.uk',
    ]) {
      const res = await sendEmail(live.api_keys.live, { email_address: address, reference: 'simulated' });
      const id = created(res, 'postEmailResponse');
      expect(res.body.content.body).toBe('Hello Foo\r\n\r\nFunctional test help make our world a better place');
      expectError(await getNotification(id), 404, 'NoResultFound', 'No result found');
    }
  });

  it('text messages: GOV.UK’s +447700900000 and GC’s +16132532222 get 201, then GET → 404', async () => {
    for (const phone of ['+447700900000', '07700900111', '+16132532222']) {
      const res = await sendSms(live.api_keys.live, { phone_number: phone, reference: 'simulated' });
      expect({ phone, status: res.status }).toEqual({ phone, status: 201 });
      const id = created(res, 'postSmsResponse');
      expect(res.body.content.body).toBe('Hello Foo\n\nFunctional Tests make our world a better place');
      expectError(await getNotification(id), 404, 'NoResultFound', 'No result found');
    }
  });

  it('never appear in lists', async () => {
    const res = await call(envoi.url, 'GET', '/v2/notifications?reference=simulated', { key: live.api_keys.live });
    expectSchema('notificationList', res.body);
    expect(res.body.notifications).toEqual([]);
  });
});

describe('test key', () => {
  const cases: [string, string][] = [
    ['someone@example.com', 'delivered'],
    ['temp-fail@simulator.notify', 'temporary-failure'],
    ['perm-fail@simulator.notify', 'permanent-failure'],
  ];

  for (const [address, outcome] of cases) {
    it(`an email to ${address} ends ${outcome}`, async () => {
      const id = created(
        await sendEmail(live.api_keys.test, { email_address: address, reference: 'test-key-outcomes' }),
        'postEmailResponse',
      );
      const final = await pollUntilFinal(envoi.url, live.api_keys.test, id);
      expectSchema('notification', final);
      expect(final).toMatchObject({ id, status: outcome, email_address: address, type: 'email' });
      expect(final.completed_at).not.toBeNull();
    });
  }

  it('a text message ends delivered, billed by fragment', async () => {
    const id = created(await sendSms(live.api_keys.test, { phone_number: '+16135550199' }), 'postSmsResponse');
    const final = await pollUntilFinal(envoi.url, live.api_keys.test, id);
    expectSchema('notification', final);
    expect(final).toMatchObject({
      status: 'delivered',
      is_cost_data_ready: true,
      cost_details: { billable_sms_fragments: 1 },
    });
    expect(final.sent_at).not.toBeNull();
  });

  it('the failures are found with the failed status filter', async () => {
    const res = await call(envoi.url, 'GET', '/v2/notifications?status=failed&reference=test-key-outcomes', {
      key: live.api_keys.test,
    });
    expectSchema('notificationList', res.body);
    expect(res.body.notifications.map((n: { email_address: string }) => n.email_address).sort()).toEqual([
      'perm-fail@simulator.notify',
      'temp-fail@simulator.notify',
    ]);
  });
});
