/** Text messages through AWS End User Messaging SMS, judged by what a local peer that checks SigV4 received. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAwsSmsProvider } from '../../src/notify/delivery/providers/aws-sms.ts';
import type { SmsMessage, SmsProvider } from '../../src/notify/delivery/providers/types.ts';
import { AWS_TEST_REGION, awsPeerEnv, faults, startAwsPeer, type AwsPeer } from '../support/aws-peer.ts';
import { testConfig } from './fixtures.ts';

let peer: AwsPeer;
const providers: SmsProvider[] = [];

beforeAll(async () => {
  peer = await startAwsPeer();
});

afterAll(async () => {
  await peer?.close();
});

afterEach(async () => {
  for (const p of providers.splice(0)) await p.close();
  peer.heal('SendTextMessage');
  peer.requests.length = 0;
});

function awsSms(env: Record<string, string> = {}): SmsProvider {
  const config = testConfig({
    SMS_PROVIDER: 'aws-sms',
    ...awsPeerEnv(peer),
    AWS_SMS_ORIGINATION_IDENTITY: 'pool-0123456789abcdef0123456789abcdef',
    AWS_SMS_CONFIGURATION_SET: 'envoi-sms-events',
    ...env,
  });
  const provider = createAwsSmsProvider({
    aws: config.aws,
    originationIdentity: config.awsSms.originationIdentity,
    configurationSet: config.awsSms.configurationSet,
  });
  providers.push(provider);
  return provider;
}

function text(overrides: Partial<SmsMessage> = {}): SmsMessage {
  return {
    notificationId: '7d1f0a2c-8a9e-4c1b-b5e3-0c6e2d4f9a01',
    serviceId: '0d6f3e51-7a43-4b6b-9a57-5c1b7c8d2e10',
    to: '+16135550123',
    sender: 'Passport Office',
    body: 'Your passport is ready.',
    ...overrides,
  };
}

describe('End User Messaging SMS provider', () => {
  it('sends a transactional text from the configured pool and answers accepted with the MessageId', async () => {
    const result = await awsSms().send(text());

    expect(peer.requests).toHaveLength(1);
    const sent = peer.requests[0]!;
    expect(result).toEqual({
      outcome: 'accepted',
      reference: sent.messageId,
      response: 'accepted by End User Messaging',
    });
    expect(sent.headers['x-amz-target']).toBe('PinpointSMSVoiceV2.SendTextMessage');
    expect(sent.headers.authorization).toMatch(new RegExp(`/${AWS_TEST_REGION}/sms-voice/aws4_request`));
    expect(sent.body).toEqual({
      DestinationPhoneNumber: '+16135550123',
      MessageBody: 'Your passport is ready.',
      // The service's name is not a usable sender id in Canada: the configured pool sends it.
      OriginationIdentity: 'pool-0123456789abcdef0123456789abcdef',
      ConfigurationSetName: 'envoi-sms-events',
      MessageType: 'TRANSACTIONAL',
      TimeToLive: 259200,
      Context: { notification_id: '7d1f0a2c-8a9e-4c1b-b5e3-0c6e2d4f9a01' },
    });
  });

  it('sends from the service’s own number when its sender is a phone number', async () => {
    await awsSms().send(text({ sender: '+16135550199' }));
    expect(peer.requests[0]!.body.OriginationIdentity).toBe('+16135550199');
  });

  it('lets End User Messaging choose the origination when none is configured', async () => {
    await awsSms({ AWS_SMS_ORIGINATION_IDENTITY: '', AWS_SMS_CONFIGURATION_SET: '' }).send(text());
    expect(peer.requests[0]!.body).not.toHaveProperty('OriginationIdentity');
    expect(peer.requests[0]!.body).not.toHaveProperty('ConfigurationSetName');
  });

  it('answers throttled on ThrottlingException, then accepted again', async () => {
    const provider = awsSms();
    peer.fail('SendTextMessage', faults.smsThrottled, 1);
    const result = await provider.send(text());
    expect(result.outcome).toBe('throttled');
    expect(result.response).toContain('ThrottlingException');
    expect((await provider.send(text())).outcome).toBe('accepted');
    expect(peer.requests).toHaveLength(2);
  });

  it('fails an invalid or opted-out destination for good, and retries an internal error', async () => {
    const provider = awsSms();
    peer.fail('SendTextMessage', faults.smsInvalidNumber, 1);
    expect(await provider.send(text({ to: '+1555' }))).toMatchObject({ outcome: 'permanent-failure' });

    peer.fail('SendTextMessage', faults.smsOptedOut, 1);
    const optedOut = await provider.send(text());
    expect(optedOut.outcome).toBe('permanent-failure');
    expect(optedOut.response).toContain('opted out');
    expect(optedOut.response).toContain('DESTINATION_PHONE_NUMBER_OPTED_OUT');

    peer.fail('SendTextMessage', faults.smsInternal, 1);
    const internal = await provider.send(text());
    expect(internal.outcome).toBe('retry');
    expect(internal.response).toContain('InternalServerException');
  });

  it('retries problems with our own set-up, such as an unregistered sender id', async () => {
    peer.fail(
      'SendTextMessage',
      { type: 'ValidationException', message: 'Sender ID is not registered', reason: 'SENDER_ID_NOT_REGISTERED' },
      1,
    );
    expect(await awsSms().send(text())).toMatchObject({ outcome: 'retry' });
  });

  it('is refused with wrong credentials, which is a retry', async () => {
    const refusedBefore = peer.refused;
    const result = await awsSms({ AWS_SECRET_ACCESS_KEY: 'not-the-secret' }).send(text());
    expect(result.outcome).toBe('retry');
    expect(result.response).toContain('403');
    expect(result.response).toContain('InvalidSignatureException');
    expect(peer.refused - refusedBefore).toBe(1);
    expect(peer.requests).toHaveLength(0);
  });
});
