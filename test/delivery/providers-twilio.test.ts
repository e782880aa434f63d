/** Text messages through Twilio's Messages API, judged by what a local peer speaking that API received. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTwilioSmsProvider } from '../../src/notify/delivery/providers/twilio.ts';
import type { SmsMessage, SmsProvider } from '../../src/notify/delivery/providers/types.ts';
import { startTwilioPeer, TWILIO_TEST_ACCOUNT, twilioFaults, type TwilioPeer } from '../support/twilio-peer.ts';
import { testConfig } from './fixtures.ts';

let peer: TwilioPeer;

beforeAll(async () => {
  peer = await startTwilioPeer();
});

afterAll(async () => {
  await peer?.close();
});

afterEach(() => {
  peer.heal();
  peer.messages.length = 0;
});

function twilio(env: Record<string, string> = {}): SmsProvider {
  const config = testConfig({
    SMS_PROVIDER: 'twilio',
    TWILIO_ACCOUNT_SID: TWILIO_TEST_ACCOUNT.accountSid,
    TWILIO_AUTH_TOKEN: TWILIO_TEST_ACCOUNT.authToken,
    TWILIO_FROM: '+16135550100',
    TWILIO_API_URL: peer.url,
    ENVOI_PUBLIC_URL: 'https://envoi.example.ca',
    ...env,
  });
  // As providers/index.ts does: status callbacks only to an origin the operator set.
  return createTwilioSmsProvider({ twilio: config.twilio, publicUrl: config.publicUrlSet ? config.publicUrl : null });
}

function text(overrides: Partial<SmsMessage> = {}): SmsMessage {
  return {
    notificationId: '7d1f0a2c-8a9e-4c1b-b5e3-0c6e2d4f9a01',
    serviceId: '0d6f3e51-7a43-4b6b-9a57-5c1b7c8d2e10',
    to: '+16135550123',
    sender: 'Passport Office',
    body: 'Your passport is ready & waiting: 100% done.',
    ...overrides,
  };
}

describe('Twilio provider', () => {
  it('posts the message with a status callback and answers accepted with the message sid', async () => {
    const result = await twilio().send(text());

    expect(peer.messages).toHaveLength(1);
    const sent = peer.messages[0]!;
    expect(result).toEqual({ outcome: 'accepted', reference: sent.sid, response: 'Twilio: queued' });
    expect(sent.form).toEqual({
      To: '+16135550123',
      Body: 'Your passport is ready & waiting: 100% done.',
      From: '+16135550100',
      StatusCallback: 'https://envoi.example.ca/providers/twilio/status',
    });
  });

  it('sends through a Messaging Service when TWILIO_FROM is one, and from the service’s own number when it has one', async () => {
    const provider = twilio({ TWILIO_FROM: 'MG0123456789abcdef0123456789abcdef', ENVOI_PUBLIC_URL: '' });
    await provider.send(text());
    expect(peer.messages[0]!.form).toEqual({
      To: '+16135550123',
      Body: 'Your passport is ready & waiting: 100% done.',
      MessagingServiceSid: 'MG0123456789abcdef0123456789abcdef',
    });

    await provider.send(text({ sender: '+16135550199' }));
    expect(peer.messages[1]!.form.From).toBe('+16135550199');
    expect(peer.messages[1]!.form).not.toHaveProperty('MessagingServiceSid');
  });

  it('answers throttled on 429 and passes on Retry-After', async () => {
    peer.fail(twilioFaults.tooManyRequests, 1);
    const provider = twilio();
    const result = await provider.send(text());
    expect(result).toMatchObject({ outcome: 'throttled', retryAfterMs: 7000 });
    expect(result.response).toContain('20429');
    expect((await provider.send(text())).outcome).toBe('accepted');
  });

  it('fails invalid, unsubscribed and landline numbers for good, and retries when Twilio is unavailable', async () => {
    const provider = twilio();
    for (const [fault, words] of [
      [twilioFaults.invalidNumber, 'invalid phone number'],
      [twilioFaults.unsubscribed, 'unsubscribed'],
      [twilioFaults.landline, 'not a mobile number'],
    ] as const) {
      peer.fail(fault, 1);
      const result = await provider.send(text());
      expect(result.outcome).toBe('permanent-failure');
      expect(result.response).toContain(words);
      expect(result.response).toContain(`Twilio error ${fault.code}`);
    }
    peer.fail(twilioFaults.serviceUnavailable, 1);
    expect(await provider.send(text())).toMatchObject({ outcome: 'retry' });
  });

  it('retries with wrong credentials: our configuration, not the recipient', async () => {
    const before = peer.unauthorized;
    const result = await twilio({ TWILIO_AUTH_TOKEN: 'not-the-token' }).send(text());
    expect(result.outcome).toBe('retry');
    expect(result.response).toContain('401');
    expect(result.response).toContain('Twilio error 20003');
    expect(peer.unauthorized - before).toBe(1);
    expect(peer.messages).toHaveLength(0);
  });

  it('retries when Twilio cannot be reached', async () => {
    const closed = await startTwilioPeer();
    await closed.close();
    const result = await twilio({ TWILIO_API_URL: closed.url }).send(text());
    expect(result.outcome).toBe('retry');
    expect(result.response).toContain('Twilio unreachable');
  });
});
