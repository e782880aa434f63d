/**
 * Tenant isolation: a key of service A never reads, lists, previews or sends with anything of service B, whatever
 * id it asks for; and a token that names B's service id but is signed with A's secret is refused outright.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/notify/api/v2/jwt.ts';
import { startEnvoi, type RunningEnvoi } from '../support/envoi.ts';
import { fixture, LIVE_ID, OTHER_ID } from './fixture.ts';
import { call, expectError, keyParts, type ApiResponse } from './helpers.ts';
import { expectSchema } from './response-schemas.ts';

type Provisioned = RunningEnvoi['provisioned']['services'][number];

let envoi: RunningEnvoi;
let a: Provisioned;
let b: Provisioned;
let aKey: string;
let bKey: string;
/** Notifications each service sent, and B's received text. */
let aEmailId: string;
let bEmailId: string;
let bSmsId: string;
let bTextId: string;

const notFound = (res: ApiResponse) => expectError(res, 404, 'NoResultFound', 'No result found');

beforeAll(async () => {
  envoi = await startEnvoi({ bootstrap: fixture() });
  [a, b] = envoi.provisioned.services;
  aKey = a.api_keys.live;
  bKey = b.api_keys.other;

  const send = async (key: string, path: string, json: object) => {
    const res = await call(envoi.url, 'POST', path, { key, json });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  aEmailId = await send(aKey, '/v2/notifications/email', {
    email_address: 'a-recipient@example.com',
    template_id: a.templates.email,
    personalisation: { name: 'A' },
    reference: 'shared-ref',
  });
  bEmailId = await send(bKey, '/v2/notifications/email', {
    email_address: 'b-recipient@example.com',
    template_id: b.templates['other-email'],
    personalisation: { name: 'B' },
    reference: 'shared-ref',
  });
  // B may send text messages with a template of its own only; it has none, so a row stands in for one it sent.
  bSmsId = randomUUID();
  await envoi.database.db
    .insertInto('notifications')
    .values({
      id: bSmsId,
      service_id: OTHER_ID,
      template_id: b.templates['other-email'],
      template_version: 2,
      key_type: 'normal',
      notification_type: 'sms',
      to: '+16135550142',
      normalised_to: '+16135550142',
      personalisation: '{}',
      client_reference: 'shared-ref',
      body: 'B text',
      next_attempt_at: new Date(),
    })
    .execute();
  bTextId = (
    await envoi.database.db
      .insertInto('received_texts')
      .values({
        service_id: OTHER_ID,
        notify_number: '+16135550999',
        user_number: '+16135550123',
        content: 'For B only',
      })
      .returning('id')
      .executeTakeFirstOrThrow()
  ).id;
});

afterAll(async () => {
  await envoi?.stop();
});

describe('service A’s key and service B’s data', () => {
  it('each service reads its own notification', async () => {
    expect((await call(envoi.url, 'GET', `/v2/notifications/${aEmailId}`, { key: aKey })).status).toBe(200);
    const own = await call(envoi.url, 'GET', `/v2/notifications/${bEmailId}`, { key: bKey });
    expect(own.status).toBe(200);
    expectSchema('notification', own.body);
  });

  it('404 for B’s notifications, with every key type of A', async () => {
    for (const key of [a.api_keys.live, a.api_keys.team, a.api_keys.test]) {
      notFound(await call(envoi.url, 'GET', `/v2/notifications/${bEmailId}`, { key }));
      notFound(await call(envoi.url, 'GET', `/v2/notifications/${bSmsId}`, { key }));
    }
    notFound(await call(envoi.url, 'GET', `/v2/notifications/${aEmailId}`, { key: bKey }));
  });

  it('B’s notifications never appear in A’s lists, whatever the filters', async () => {
    const queries = [
      '',
      '?reference=shared-ref',
      '?template_type=sms',
      '?template_type=email&status=created',
      `?older_than=${aEmailId}`,
    ];
    for (const query of queries) {
      const res = await call(envoi.url, 'GET', `/v2/notifications${query}`, { key: aKey });
      expect(res.status).toBe(200);
      expectSchema('notificationList', res.body);
      const ids: string[] = res.body.notifications.map((n: { id: string }) => n.id);
      expect(ids).not.toContain(bEmailId);
      expect(ids).not.toContain(bSmsId);
    }
    const shared = await call(envoi.url, 'GET', '/v2/notifications?reference=shared-ref', { key: aKey });
    expect(shared.body.notifications.map((n: { id: string }) => n.id)).toEqual([aEmailId]);
    const bShared = await call(envoi.url, 'GET', '/v2/notifications?reference=shared-ref', { key: bKey });
    expect(bShared.body.notifications.map((n: { id: string }) => n.id).sort()).toEqual([bEmailId, bSmsId].sort());
  });

  it('older_than naming B’s notification gives A an empty page, not B’s neighbours', async () => {
    const res = await call(envoi.url, 'GET', `/v2/notifications?older_than=${bEmailId}`, { key: aKey });
    expect(res.status).toBe(200);
    expectSchema('notificationList', res.body);
    expect(res.body.notifications).toEqual([]);
  });

  it('404 for B’s template, its versions and its preview', async () => {
    const tid = b.templates['other-email'];
    notFound(await call(envoi.url, 'GET', `/v2/template/${tid}`, { key: aKey }));
    notFound(await call(envoi.url, 'GET', `/v2/template/${tid}/version/1`, { key: aKey }));
    notFound(await call(envoi.url, 'GET', `/v2/template/${tid}/version/2`, { key: aKey }));
    notFound(
      await call(envoi.url, 'POST', `/v2/template/${tid}/preview`, {
        key: aKey,
        json: { personalisation: { name: 'x' } },
      }),
    );
    // And the other way round.
    notFound(await call(envoi.url, 'GET', `/v2/template/${a.templates.email}`, { key: bKey }));
  });

  it('B’s templates are not in A’s template list', async () => {
    const res = await call(envoi.url, 'GET', '/v2/templates', { key: aKey });
    expectSchema('templateList', res.body);
    const ids: string[] = res.body.templates.map((t: { id: string }) => t.id);
    expect(ids).toContain(a.templates.email);
    expect(ids).not.toContain(b.templates['other-email']);
  });

  it('400 Template not found when A sends with B’s template', async () => {
    const email = await call(envoi.url, 'POST', '/v2/notifications/email', {
      key: aKey,
      json: { email_address: 'x@example.com', template_id: b.templates['other-email'], personalisation: { name: 'x' } },
    });
    expectError(email, 400, 'BadRequestError', 'Template not found');
    const sms = await call(envoi.url, 'POST', '/v2/notifications/sms', {
      key: aKey,
      json: { phone_number: '+16135550199', template_id: b.templates['other-email'], personalisation: { name: 'x' } },
    });
    expectError(sms, 400, 'BadRequestError', 'Template not found');
  });

  it('A’s reply-to address and text sender do not exist for B', async () => {
    const replyTo = a.reply_to['reply@example.gc.ca'];
    const res = await call(envoi.url, 'POST', '/v2/notifications/email', {
      key: bKey,
      json: {
        email_address: 'x@example.com',
        template_id: b.templates['other-email'],
        personalisation: { name: 'x' },
        email_reply_to_id: replyTo,
      },
    });
    expectError(
      res,
      400,
      'BadRequestError',
      `email_reply_to_id ${replyTo} does not exist in database for service id ${OTHER_ID}`,
    );
  });

  it('received texts: each service sees only its own; older_than naming B’s text gives A nothing', async () => {
    const aTexts = await call(envoi.url, 'GET', '/v2/received-text-messages', { key: aKey });
    expectSchema('receivedTextList', aTexts.body);
    expect(aTexts.body.received_text_messages.length).toBe(2);
    for (const t of aTexts.body.received_text_messages) expect(t.service_id).toBe(LIVE_ID);
    expect(aTexts.body.received_text_messages.map((t: { id: string }) => t.id)).not.toContain(bTextId);

    const bTexts = await call(envoi.url, 'GET', '/v2/received-text-messages', { key: bKey });
    expectSchema('receivedTextList', bTexts.body);
    expect(bTexts.body.received_text_messages.map((t: { id: string; content: string }) => [t.id, t.content])).toEqual([
      [bTextId, 'For B only'],
    ]);

    const paged = await call(envoi.url, 'GET', `/v2/received-text-messages?older_than=${bTextId}`, { key: aKey });
    expect(paged.status).toBe(200);
    expect(paged.body.received_text_messages).toEqual([]);
  });
});

describe('a token naming B’s service, signed with A’s secret', () => {
  const forged = () => `Bearer ${signToken(OTHER_ID, keyParts(a.api_keys.live).secret)}`;

  it('403 API key not found on every route, reads and sends alike', async () => {
    const requests: [string, string, object?][] = [
      ['GET', `/v2/notifications/${bEmailId}`],
      ['GET', '/v2/notifications'],
      ['GET', `/v2/template/${b.templates['other-email']}`],
      ['GET', `/v2/template/${b.templates['other-email']}/version/1`],
      ['POST', `/v2/template/${b.templates['other-email']}/preview`, { personalisation: { name: 'x' } }],
      ['GET', '/v2/templates'],
      ['GET', '/v2/received-text-messages'],
      [
        'POST',
        '/v2/notifications/email',
        { email_address: 'x@example.com', template_id: b.templates['other-email'], personalisation: { name: 'x' } },
      ],
    ];
    for (const [method, path, json] of requests) {
      const res = await call(envoi.url, method, path, { authorization: forged(), json });
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 403 });
      expectError(res, 403, 'AuthError', 'Invalid token: API key not found');
    }
  });

  it('nothing was sent for B', async () => {
    const res = await call(envoi.url, 'GET', '/v2/notifications?template_type=email', { key: bKey });
    expect(res.body.notifications.map((n: { id: string }) => n.id)).toEqual([bEmailId]);
  });

  it('the same forgery as a GC ApiKey-v1 key is refused: 403 Enter your full API key', async () => {
    const res = await call(envoi.url, 'GET', '/v2/templates', {
      authorization: `ApiKey-v1 live-${OTHER_ID}-${keyParts(a.api_keys.live).secret}`,
    });
    expectError(res, 403, 'AuthError', 'Invalid token: Enter your full API key');
  });
});
