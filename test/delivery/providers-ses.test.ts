/** Email through Amazon SES v2, judged by what a local peer that checks SigV4 signatures received. */
import { simpleParser } from 'mailparser';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSesEmailProvider } from '../../src/notify/delivery/providers/ses.ts';
import type { EmailMessage, EmailProvider } from '../../src/notify/delivery/providers/types.ts';
import {
  AWS_TEST_CREDENTIALS,
  AWS_TEST_REGION,
  awsPeerEnv,
  faults,
  startAwsPeer,
  type AwsPeer,
} from '../support/aws-peer.ts';
import { parseHeaders, testConfig } from './fixtures.ts';

let peer: AwsPeer;
const providers: EmailProvider[] = [];

beforeAll(async () => {
  peer = await startAwsPeer();
});

afterAll(async () => {
  await peer?.close();
});

afterEach(async () => {
  for (const p of providers.splice(0)) await p.close();
  peer.heal('SendEmail');
  peer.requests.length = 0;
});

function ses(env: Record<string, string> = {}): EmailProvider {
  const config = testConfig({
    EMAIL_PROVIDER: 'ses',
    ...awsPeerEnv(peer),
    SES_CONFIGURATION_SET: 'envoi-events',
    ...env,
  });
  const provider = createSesEmailProvider({ aws: config.aws, configurationSet: config.sesConfigurationSet });
  providers.push(provider);
  return provider;
}

function message(overrides: Partial<EmailMessage> = {}): EmailMessage {
  const notificationId = '4a4c5b8e-3f0e-4c36-9d5c-2f9d0b7c1e11';
  return {
    notificationId,
    serviceId: '0d6f3e51-7a43-4b6b-9a57-5c1b7c8d2e10',
    from: { name: 'Passport "Renewals" Office', address: 'passports@notify.test.example' },
    to: 'alice@example.com',
    replyTo: 'help@passports.example.ca',
    subject: 'Your passport',
    text: 'Hello Alice,\n\nYour passport is ready.',
    html: '<p>Hello Alice,</p><p>Your passport is <strong>ready</strong>.</p>',
    messageId: `<${notificationId}@notify.test.example>`,
    bounceAddress: null,
    unsubscribeUrl: 'https://envoi.example.ca/unsubscribe/abc123',
    ...overrides,
  };
}

describe('SES v2 provider', () => {
  it('sends the raw MIME message with the configuration set and the notification id tag, and answers accepted', async () => {
    const result = await ses().send(message());

    expect(peer.requests).toHaveLength(1);
    const sent = peer.requests[0]!;
    expect(result).toEqual({ outcome: 'accepted', reference: sent.messageId, response: 'accepted by SES' });
    expect(sent.headers.authorization).toMatch(
      new RegExp(`Credential=${AWS_TEST_CREDENTIALS.accessKeyId}/\\d{8}/${AWS_TEST_REGION}/ses/`),
    );
    expect(sent.body).toMatchObject({
      FromEmailAddress: 'passports@notify.test.example',
      Destination: { ToAddresses: ['alice@example.com'] },
      ConfigurationSetName: 'envoi-events',
      EmailTags: [{ Name: 'notification_id', Value: '4a4c5b8e-3f0e-4c36-9d5c-2f9d0b7c1e11' }],
    });

    const headers = parseHeaders(sent.raw!);
    expect(headers.get('message-id')).toBe('<4a4c5b8e-3f0e-4c36-9d5c-2f9d0b7c1e11@notify.test.example>');
    expect(headers.get('list-unsubscribe')).toBe('<https://envoi.example.ca/unsubscribe/abc123>');
    expect(headers.get('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    const mail = await simpleParser(sent.raw!);
    expect(mail.from?.value).toEqual([
      { name: 'Passport "Renewals" Office', address: 'passports@notify.test.example' },
    ]);
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.text : null).toBe('alice@example.com');
    expect(mail.replyTo?.text).toBe('help@passports.example.ca');
    expect(mail.subject).toBe('Your passport');
    expect(mail.text?.trim()).toBe('Hello Alice,\n\nYour passport is ready.');
    expect(mail.html).toContain('<strong>ready</strong>');
  });

  it('leaves out List-Unsubscribe, Reply-To and the configuration set when there are none', async () => {
    await ses({ SES_CONFIGURATION_SET: '' }).send(message({ unsubscribeUrl: null, replyTo: null }));
    const sent = peer.requests[0]!;
    expect(sent.body).not.toHaveProperty('ConfigurationSetName');
    const headers = parseHeaders(sent.raw!);
    expect(headers.has('list-unsubscribe')).toBe(false);
    expect(headers.has('list-unsubscribe-post')).toBe(false);
    expect(headers.has('reply-to')).toBe(false);
  });

  it('answers throttled when SES says TooManyRequests', async () => {
    peer.fail('SendEmail', faults.sesThrottled, 1);
    const provider = ses();
    const result = await provider.send(message());
    expect(result.outcome).toBe('throttled');
    expect(result.response).toContain('TooManyRequestsException');
    // The SDK does not retry on its own: the worker decides when to try again.
    expect(peer.requests).toHaveLength(1);
    expect((await provider.send(message())).outcome).toBe('accepted');
  });

  it('fails a rejected message for good, and retries when the account is paused or SES fails', async () => {
    const provider = ses();
    peer.fail('SendEmail', faults.sesRejected, 1);
    const rejected = await provider.send(message());
    expect(rejected).toMatchObject({ outcome: 'permanent-failure' });
    expect(rejected.response).toContain('Illegal address');

    peer.fail('SendEmail', faults.sesPaused, 1);
    expect(await provider.send(message())).toMatchObject({ outcome: 'retry' });

    peer.fail('SendEmail', faults.sesInternal, 1);
    const internal = await provider.send(message());
    expect(internal.outcome).toBe('retry');
    expect(internal.response).toContain('500');
  });

  it('retries when the sandbox refuses an unverified recipient (an account state, not the recipient)', async () => {
    peer.fail(
      'SendEmail',
      {
        status: 400,
        type: 'MessageRejected',
        message:
          'Email address is not verified. The following identities failed the check in region CA-CENTRAL-1: alice@example.com',
      },
      1,
    );
    expect(await ses().send(message())).toMatchObject({ outcome: 'retry' });
  });

  it('is refused with wrong credentials, which is a retry, not the recipient’s fault', async () => {
    const refusedBefore = peer.refused;
    const wrongSecret = await ses({ AWS_SECRET_ACCESS_KEY: 'not-the-secret' }).send(message());
    expect(wrongSecret.outcome).toBe('retry');
    expect(wrongSecret.response).toContain('403');
    expect(wrongSecret.response).toContain('InvalidSignatureException');

    const unknownKey = await ses({ AWS_ACCESS_KEY_ID: 'AKIAUNKNOWNKEY000000' }).send(message());
    expect(unknownKey.outcome).toBe('retry');
    expect(unknownKey.response).toContain('UnrecognizedClientException');

    expect(peer.refused - refusedBefore).toBe(2);
    expect(peer.requests).toHaveLength(0);
  });

  it('retries when SES cannot be reached', async () => {
    const closed = await startAwsPeer();
    await closed.close();
    const result = await ses({ AWS_ENDPOINT_URL: closed.url }).send(message());
    expect(result.outcome).toBe('retry');
  });
});
