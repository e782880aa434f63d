/**
 * SNS signature verification against a local HTTPS peer that plays the SNS certificate host, with certificates
 * made once (test/fixtures/sns): the verifier trusts only the test CA, as it trusts only the system CAs in production.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SnsError, type SnsVerifier } from '../../src/notify/delivery/receipts/sns.ts';
import { SNS_HOST, startSnsPeer, TOPIC_ARN, type SnsPeer } from '../fixtures/sns/sns-peer.ts';

async function refusal(promise: Promise<unknown>): Promise<SnsError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof SnsError) return err;
    throw err;
  }
  throw new Error('expected the message to be refused');
}

describe('SNS signature verification', () => {
  let peer: SnsPeer;
  let verifier: SnsVerifier;

  beforeAll(async () => {
    peer = await startSnsPeer();
    verifier = peer.verifier();
  });
  afterAll(() => peer.close());

  it('accepts a Notification signed with SignatureVersion 1 (SHA1withRSA) and 2 (SHA256withRSA)', async () => {
    for (const version of ['1', '2'] as const) {
      const body = peer.message({ message: { eventType: 'Delivery' }, version });
      const message = await verifier.verify(body);
      expect(message).toMatchObject({ Type: 'Notification', TopicArn: TOPIC_ARN, Message: '{"eventType":"Delivery"}' });
    }
  });

  it('accepts a Notification with a Subject, and subscription confirmations', async () => {
    await expect(
      verifier.verify(peer.message({ message: 'hello', subject: 'Amazon SES Email Event Notification' })),
    ).resolves.toMatchObject({
      Subject: 'Amazon SES Email Event Notification',
    });
    for (const type of ['SubscriptionConfirmation', 'UnsubscribeConfirmation'] as const) {
      const message = await verifier.verify(
        peer.message({ type, message: 'You have chosen to subscribe', version: '1' }),
      );
      expect(message.Type).toBe(type);
      expect(message.Token).toBeTruthy();
    }
  });

  it('fetches each signing certificate once', async () => {
    const before = peer.requests.filter((r) => r.endsWith('.pem')).length;
    const fresh = peer.verifier();
    for (let i = 0; i < 5; i += 1) await fresh.verify(peer.message({ message: `n${i}` }));
    expect(peer.requests.filter((r) => r.endsWith('.pem')).length - before).toBe(1);
  });

  it('refuses a message changed after signing, by one byte anywhere signed', async () => {
    const body = peer.message({ message: '{"eventType":"Delivery","mail":{"messageId":"abc"}}' });
    for (const field of ['Message', 'MessageId', 'Timestamp', 'TopicArn']) {
      const changed = { ...body, [field]: body[field]!.slice(0, -1) + (body[field]!.endsWith('x') ? 'y' : 'x') };
      expect((await refusal(verifier.verify(changed))).kind).toBe('forbidden');
    }
    const subjectAdded = { ...body, Subject: 'added' };
    expect((await refusal(verifier.verify(subjectAdded))).kind).toBe('forbidden');
    const signature = Buffer.from(body.Signature!, 'base64');
    signature[10] ^= 1;
    expect((await refusal(verifier.verify({ ...body, Signature: signature.toString('base64') }))).kind).toBe(
      'forbidden',
    );
    // A v2 signature declared as v1 is checked with SHA-1 and fails.
    expect((await refusal(verifier.verify({ ...body, SignatureVersion: '1' }))).kind).toBe('forbidden');
  });

  it('refuses a certificate URL that is not https on an SNS host, before fetching anything', async () => {
    const before = peer.requests.length;
    const hosts = [
      `https://sns.ca-central-1.amazonaws.com.evil.example:${peer.port}/cert.pem`,
      `https://evil.example/sns.ca-central-1.amazonaws.com/cert.pem`,
      `https://s3.ca-central-1.amazonaws.com:${peer.port}/SimpleNotificationService-x.pem`,
      `https://snsXca-central-1.amazonaws.com:${peer.port}/SimpleNotificationService-x.pem`,
      `https://user@${SNS_HOST}:${peer.port}/SimpleNotificationService-x.pem`,
      `http://${SNS_HOST}:${peer.port}/SimpleNotificationService-x.pem`,
    ];
    for (const url of hosts) {
      const error = await refusal(verifier.verify({ ...peer.message({ message: 'x' }), SigningCertURL: url }));
      expect(error.kind, url).toBe('forbidden');
    }
    expect(peer.requests.length).toBe(before);
  });

  it('refuses a certificate served by a host whose TLS certificate the trust root does not vouch for', async () => {
    const impostor = await startSnsPeer({ untrusted: true });
    try {
      const error = await refusal(impostor.verifier().verify(impostor.message({ message: 'x' })));
      expect(error.kind).toBe('forbidden');
      expect(impostor.requests).toEqual([]);
    } finally {
      await impostor.close();
    }
  });

  it('refuses what is not an SNS message as malformed', async () => {
    const good = peer.message({ message: 'x' });
    const cases: unknown[] = [
      null,
      'text',
      [],
      { ...good, Type: 'Other' },
      { ...good, SignatureVersion: '3' },
      { ...good, Signature: undefined },
      { ...good, MessageId: 42 },
      { ...good, SigningCertURL: undefined },
    ];
    for (const body of cases) expect((await refusal(verifier.verify(body))).kind).toBe('malformed');
  });

  it('refuses topics other than the expected ones when a list is given', async () => {
    const strict = peer.verifier({ topicArns: [TOPIC_ARN] });
    await expect(strict.verify(peer.message({ message: 'x' }))).resolves.toBeTruthy();
    const other = peer.message({ message: 'x', topicArn: 'arn:aws:sns:ca-central-1:999999999999:someone-else' });
    expect((await refusal(strict.verify(other))).kind).toBe('forbidden');
  });

  it('confirms a subscription by visiting its SubscribeURL, only on an SNS host', async () => {
    const message = await verifier.verify(peer.message({ type: 'SubscriptionConfirmation', message: 'confirm' }));
    await verifier.confirmSubscription(message);
    expect(peer.requests.at(-1)).toContain(`Action=ConfirmSubscription`);
    expect(peer.requests.at(-1)).toContain(`Token=${message.Token}`);
    const elsewhere = { ...message, SubscribeURL: 'https://attacker.example/?Action=ConfirmSubscription' };
    expect((await refusal(verifier.confirmSubscription(elsewhere))).kind).toBe('forbidden');
  });
});
