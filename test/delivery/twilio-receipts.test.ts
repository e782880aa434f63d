/**
 * Twilio's webhooks against a running Envoi: status callbacks and incoming messages signed as Twilio signs them
 * (HMAC-SHA1 with the auth token over the URL and the sorted form parameters) move notifications and store replies;
 * anything unsigned or signed with another token is refused.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEnvoi, TEST_SECRET_KEY, type RunningEnvoi } from '../support/envoi.ts';
import { call } from '../api/helpers.ts';
import { insertNotification, notification, waitFor } from './fixtures.ts';
import { SecretBox } from '../../src/platform/secret-box.ts';
import {
  twilioSignature,
  twilioStatusReceipt,
  verifyTwilioSignature,
} from '../../src/notify/delivery/receipts/twilio.ts';
import type { BootstrapFile } from '../../src/notify/provisioning/bootstrap-file.ts';

const AUTH_TOKEN = 'twilio-test-auth-token-0123456789';
const SERVICE_ID = '44444444-4444-4444-8444-444444444444';
const INBOUND_NUMBER = '+16135550100';

const bootstrap: BootstrapFile = {
  services: [
    {
      name: 'Texting service',
      id: SERVICE_ID,
      restricted: false,
      permissions: ['sms', 'inbound_sms'],
      inbound_number: INBOUND_NUMBER,
      templates: [
        { key: 'sms', type: 'sms', versions: [{ name: 'Reminder', content: 'Your appointment is tomorrow' }] },
      ],
      api_keys: [{ name: 'live', type: 'normal' }],
    },
  ],
};

/** Our own reading of Twilio's documented scheme, independent of the code under test. */
function sign(url: string, params: Record<string, string>, token = AUTH_TOKEN): string {
  const data =
    url +
    Object.keys(params)
      .sort()
      .map((k) => k + params[k])
      .join('');
  return createHmac('sha1', token).update(data).digest('base64');
}

async function postForm(
  base: string,
  path: string,
  params: Record<string, string>,
  headers: Record<string, string> = {},
) {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params).toString(),
  });
  return { status: res.status, text: await res.text(), contentType: res.headers.get('content-type') };
}

const messageSid = () => `SM${randomBytes(16).toString('hex')}`;

describe('Twilio signature', () => {
  it("matches the example in Twilio's security documentation", () => {
    const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
    const params: [string, string][] = [
      ['CallSid', 'CA1234567890ABCDE'],
      ['Caller', '+12349013030'],
      ['Digits', '1234'],
      ['From', '+12349013030'],
      ['To', '+18005551212'],
    ];
    expect(twilioSignature('12345', url, params.reverse())).toBe('0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
    expect(verifyTwilioSignature('12345', '0/KCTR6DLpKmkAf8muzZqo1nDgQ=', url, params)).toBe(true);
    // Twilio may have signed the same URL with its default port written out.
    expect(
      verifyTwilioSignature(
        '12345',
        twilioSignature('12345', 'https://mycompany.com:443/myapp.php?foo=1&bar=2', params),
        url,
        params,
      ),
    ).toBe(true);
    expect(verifyTwilioSignature('54321', '0/KCTR6DLpKmkAf8muzZqo1nDgQ=', url, params)).toBe(false);
    expect(verifyTwilioSignature('12345', undefined, url, params)).toBe(false);
  });

  it('maps statuses and error codes to Notify statuses', () => {
    const at = new Date();
    const receipt = (messageStatus: string, errorCode: string | null = null) =>
      twilioStatusReceipt({ messageSid: 'SM1', messageStatus, errorCode, errorMessage: null }, at);
    expect(receipt('queued')).toBeNull();
    expect(receipt('sending')).toBeNull();
    expect(receipt('sent')?.status).toBe('pending');
    expect(receipt('delivered')?.status).toBe('delivered');
    expect(receipt('undelivered', '30003')).toMatchObject({
      status: 'temporary-failure',
      response: 'undelivered 30003 Unreachable destination handset',
    });
    expect(receipt('undelivered', '30006')?.status).toBe('permanent-failure');
    expect(receipt('failed', '21610')).toMatchObject({ status: 'permanent-failure', suppress: 'opted-out' });
    expect(receipt('failed', '30002')?.status).toBe('technical-failure');
    expect(receipt('undelivered', '39999')?.status).toBe('temporary-failure');
    expect(receipt('failed')?.status).toBe('technical-failure');
  });
});

describe('Twilio webhooks on a running Envoi', () => {
  let envoi: RunningEnvoi;
  let apiKey: string;
  let templateId: string;

  beforeAll(async () => {
    envoi = await startEnvoi({ bootstrap, env: { TWILIO_AUTH_TOKEN: AUTH_TOKEN } });
    apiKey = envoi.provisioned.services[0]!.api_keys.live!;
    templateId = envoi.provisioned.services[0]!.templates.sms!;
  });

  afterAll(async () => {
    await envoi?.stop();
  });

  /** A text handed to Twilio: status sending, provider twilio, Twilio's SID as the reference. */
  async function sentText(to = '+16135550142'): Promise<{ id: string; sid: string }> {
    const sid = messageSid();
    const id = await insertNotification(envoi.database.db, {
      serviceId: SERVICE_ID,
      template: { id: templateId, version: 1 },
      type: 'sms',
      to,
      body: 'Your appointment is tomorrow',
    });
    await envoi.database.db
      .updateTable('notifications')
      .set({ status: 'sending', provider: 'twilio', provider_reference: sid, sent_at: new Date() })
      .where('id', '=', id)
      .execute();
    return { id, sid };
  }

  function statusCallback(sid: string, status: string, errorCode?: string): Record<string, string> {
    return {
      AccountSid: 'AC00000000000000000000000000000000',
      ApiVersion: '2010-04-01',
      From: '+16135550199',
      MessageSid: sid,
      MessageStatus: status,
      SmsSid: sid,
      SmsStatus: status,
      To: '+16135550142',
      ...(errorCode ? { ErrorCode: errorCode } : {}),
    };
  }

  async function postStatus(params: Record<string, string>, path = '/providers/twilio/status') {
    return postForm(envoi.url, path, params, { 'x-twilio-signature': sign(envoi.url + path, params) });
  }

  async function statusOf(id: string) {
    return (await notification(envoi.database.db, id)).status;
  }

  it('marks a text delivered', async () => {
    const { id, sid } = await sentText();
    expect((await postStatus(statusCallback(sid, 'sent'))).status).toBe(204);
    expect(await statusOf(id)).toBe('pending');
    expect((await postStatus(statusCallback(sid, 'delivered'))).status).toBe(204);
    expect(await statusOf(id)).toBe('delivered');
    expect((await notification(envoi.database.db, id)).provider_response).toBe('delivered');
  });

  it('marks an unreachable phone temporary-failure and an unknown number permanent-failure', async () => {
    const off = await sentText();
    const unknown = await sentText();
    expect((await postStatus(statusCallback(off.sid, 'undelivered', '30003'))).status).toBe(204);
    expect((await postStatus(statusCallback(unknown.sid, 'undelivered', '30005'))).status).toBe(204);
    const offRow = await notification(envoi.database.db, off.id);
    expect({ status: offRow.status, response: offRow.provider_response }).toEqual({
      status: 'temporary-failure',
      response: 'undelivered 30003 Unreachable destination handset',
    });
    expect(await statusOf(unknown.id)).toBe('permanent-failure');
  });

  it('suppresses a number that unsubscribed', async () => {
    const { id, sid } = await sentText('+16135550177');
    expect((await postStatus(statusCallback(sid, 'failed', '21610'))).status).toBe(204);
    expect(await statusOf(id)).toBe('permanent-failure');
    const suppression = await envoi.database.db
      .selectFrom('suppressions')
      .selectAll()
      .where('service_id', '=', SERVICE_ID)
      .where('recipient', '=', '+16135550177')
      .executeTakeFirst();
    expect(suppression).toMatchObject({ channel: 'sms', reason: 'opted-out', notification_id: id });
  });

  it('changes nothing for statuses on the way (queued, sending) and accepts callbacks for unknown messages', async () => {
    const { id, sid } = await sentText();
    expect((await postStatus(statusCallback(sid, 'queued'))).status).toBe(204);
    expect((await postStatus(statusCallback(sid, 'sending'))).status).toBe(204);
    expect(await statusOf(id)).toBe('sending');
    expect((await postStatus(statusCallback(messageSid(), 'delivered'))).status).toBe(204);
  });

  it('covers the query string in the signature', async () => {
    const { id, sid } = await sentText();
    expect((await postStatus(statusCallback(sid, 'delivered'), '/providers/twilio/status?attempt=1')).status).toBe(204);
    expect(await statusOf(id)).toBe('delivered');
  });

  it('checks the signature against the configured URL, whatever forwarded scheme and host a client sends', async () => {
    const { id, sid } = await sentText();
    const params = statusCallback(sid, 'delivered');
    const forged = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'envoi.example.ca' };
    const elsewhere = await postForm(envoi.url, '/providers/twilio/status', params, {
      'x-twilio-signature': sign('https://envoi.example.ca/providers/twilio/status', params),
      ...forged,
    });
    expect(elsewhere.status).toBe(403);
    const res = await postForm(envoi.url, '/providers/twilio/status', params, {
      'x-twilio-signature': sign(`${envoi.url}/providers/twilio/status`, params),
      ...forged,
    });
    expect(res.status).toBe(204);
    expect(await statusOf(id)).toBe('delivered');
  });

  it('refuses a missing signature, another token, a changed body and another URL with 403', async () => {
    const { id, sid } = await sentText();
    const params = statusCallback(sid, 'delivered');
    const url = `${envoi.url}/providers/twilio/status`;
    const attempts: Record<string, string>[] = [
      {},
      { 'x-twilio-signature': sign(url, params, 'another-account-token') },
      { 'x-twilio-signature': sign(url, { ...params, MessageStatus: 'undelivered' }) },
      { 'x-twilio-signature': sign(`${envoi.url}/providers/twilio/inbound`, params) },
      { 'x-twilio-signature': 'not base64 at all' },
    ];
    for (const headers of attempts) {
      const res = await postForm(envoi.url, '/providers/twilio/status', params, headers);
      expect(res.status).toBe(403);
      expect(JSON.parse(res.text)).toEqual({ result: 'error', message: 'Invalid or missing X-Twilio-Signature' });
    }
    // Unsigned JSON is refused the same way.
    const json = await call(envoi.url, 'POST', '/providers/twilio/status', { json: params });
    expect(json.status).toBe(403);
    expect(await statusOf(id)).toBe('sending');
  });

  it('answers 400 for a signed post that is not a status callback', async () => {
    const malformed: Record<string, string>[] = [
      { MessageStatus: 'delivered' },
      { MessageSid: messageSid() },
      { MessageSid: 'not-a-sid', MessageStatus: 'delivered' },
      { MessageSid: messageSid(), MessageStatus: 'delivered', ErrorCode: 'abc' },
    ];
    for (const params of malformed) {
      const res = await postStatus(params);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.text).result).toBe('error');
    }
    const inbound = await postForm(
      envoi.url,
      '/providers/twilio/inbound',
      { Body: 'hi' },
      {
        'x-twilio-signature': sign(`${envoi.url}/providers/twilio/inbound`, { Body: 'hi' }),
      },
    );
    expect(inbound.status).toBe(400);
  });

  it('stores a reply from the public, serves it on the API and queues the inbound callback', async () => {
    await envoi.database.db
      .insertInto('service_callbacks')
      .values({
        service_id: SERVICE_ID,
        callback_type: 'inbound_sms',
        url: 'https://receiver.example.ca/inbound',
        bearer_token_sealed: new SecretBox(TEST_SECRET_KEY).seal('a-bearer-token-for-tests'),
      })
      .execute();
    const params = {
      AccountSid: 'AC00000000000000000000000000000000',
      ApiVersion: '2010-04-01',
      Body: 'Yes, I will be there ✓',
      From: '+16135550123',
      MessageSid: messageSid(),
      NumMedia: '0',
      NumSegments: '1',
      SmsMessageSid: messageSid(),
      To: INBOUND_NUMBER,
    };
    const res = await postForm(envoi.url, '/providers/twilio/inbound', params, {
      'x-twilio-signature': sign(`${envoi.url}/providers/twilio/inbound`, params),
    });
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/^text\/xml/);
    expect(res.text).toMatch(/<Response\s*(\/>|><\/Response>)$/);

    const list = await call(envoi.url, 'GET', '/v2/received-text-messages', { key: apiKey });
    expect(list.status).toBe(200);
    const received = list.body.received_text_messages.find(
      (t: { content: string }) => t.content === 'Yes, I will be there ✓',
    );
    expect(received).toMatchObject({
      service_id: SERVICE_ID,
      notify_number: INBOUND_NUMBER,
      user_number: '+16135550123',
    });

    const queued = await waitFor(
      () =>
        envoi.database.db
          .selectFrom('callback_deliveries')
          .selectAll()
          .where('callback_type', '=', 'inbound_sms')
          .where('subject_id', '=', received.id)
          .executeTakeFirst(),
      'the inbound callback to be queued',
    );
    expect(queued.service_id).toBe(SERVICE_ID);

    // Twilio retries a webhook it got no answer to: the same MessageSid again is the same text, stored and called back once.
    const again = await postForm(envoi.url, '/providers/twilio/inbound', params, {
      'x-twilio-signature': sign(`${envoi.url}/providers/twilio/inbound`, params),
    });
    expect(again.status).toBe(200);
    const stored = await envoi.database.db
      .selectFrom('received_texts')
      .select('id')
      .where('content', '=', 'Yes, I will be there ✓')
      .execute();
    expect(stored).toEqual([{ id: received.id }]);
    const callbacks = await envoi.database.db
      .selectFrom('callback_deliveries')
      .select('id')
      .where('callback_type', '=', 'inbound_sms')
      .where('service_id', '=', SERVICE_ID)
      .execute();
    expect(callbacks).toHaveLength(1);
  });

  it('answers a text to a number no service owns without storing it', async () => {
    const params = { Body: 'Wrong number', From: '+16135550124', MessageSid: messageSid(), To: '+16135550999' };
    const res = await postForm(envoi.url, '/providers/twilio/inbound', params, {
      'x-twilio-signature': sign(`${envoi.url}/providers/twilio/inbound`, params),
    });
    expect(res.status).toBe(200);
    const stored = await envoi.database.db
      .selectFrom('received_texts')
      .select('id')
      .where('content', '=', 'Wrong number')
      .execute();
    expect(stored).toEqual([]);
  });
});

describe('Twilio webhooks behind ENVOI_PUBLIC_URL', () => {
  let envoi: RunningEnvoi;

  beforeAll(async () => {
    envoi = await startEnvoi({ env: { TWILIO_AUTH_TOKEN: AUTH_TOKEN, ENVOI_PUBLIC_URL: 'https://notify.example.ca' } });
  });

  afterAll(async () => {
    await envoi?.stop();
  });

  it('checks the signature against the public URL, whatever host the request names', async () => {
    const params = { Body: 'hello', From: '+16135550125', MessageSid: messageSid(), To: '+16135550998' };
    const signedForPublic = sign('https://notify.example.ca/providers/twilio/inbound', params);
    const signedForLocal = sign(`${envoi.url}/providers/twilio/inbound`, params);
    expect(
      (await postForm(envoi.url, '/providers/twilio/inbound', params, { 'x-twilio-signature': signedForPublic }))
        .status,
    ).toBe(200);
    expect(
      (await postForm(envoi.url, '/providers/twilio/inbound', params, { 'x-twilio-signature': signedForLocal })).status,
    ).toBe(403);
  });
});
