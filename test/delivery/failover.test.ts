/**
 * Failover between providers: small in-test providers (real implementations of the interface, answering as told)
 * with a clock the test moves, then the chain createProviders builds from configuration, against real peers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProviders } from '../../src/notify/delivery/providers/index.ts';
import { createFailoverProvider, type ChannelProvider } from '../../src/notify/delivery/providers/failover.ts';
import type { EmailMessage, ProviderResult, SmsMessage } from '../../src/notify/delivery/providers/types.ts';
import { awsPeerEnv, faults, startAwsPeer, type AwsPeer } from '../support/aws-peer.ts';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';
import { startTwilioPeer, TWILIO_TEST_ACCOUNT, twilioFaults, type TwilioPeer } from '../support/twilio-peer.ts';
import { startSmtpPeer, testConfig, type SmtpPeer } from './fixtures.ts';

type Outcome = ProviderResult['outcome'] | 'throw' | 'hang';

/** A provider that answers with the outcome it is told to, and counts its sends. */
class ScriptedProvider implements ChannelProvider<string> {
  sends = 0;
  outcome: Outcome = 'accepted';
  private hung: Array<() => void> = [];

  constructor(readonly name: string) {}

  async send(): Promise<ProviderResult> {
    this.sends++;
    const outcome = this.outcome;
    if (outcome === 'throw') throw new Error(`${this.name} broke`);
    if (outcome === 'hang') await new Promise<void>((resolve) => this.hung.push(resolve));
    if (outcome === 'accepted' || outcome === 'delivered' || outcome === 'hang') {
      return { outcome: 'accepted', reference: `${this.name}-${this.sends}`, response: 'ok' };
    }
    return { outcome, response: `${this.name} said ${outcome}` };
  }

  /** Lets every hanging send finish. */
  release(): void {
    for (const resolve of this.hung.splice(0)) resolve();
  }

  async close(): Promise<void> {}
}

function setUp(names = ['first', 'second']) {
  let clock = 1_000_000;
  const providers = names.map((n) => new ScriptedProvider(n));
  const failover = createFailoverProvider(providers, {
    errorRate: 0.5,
    windowSeconds: 60,
    minSends: 4,
    cooldownSeconds: 30,
    now: () => clock,
  });
  return {
    providers,
    failover,
    advance(seconds: number) {
      clock += seconds * 1000;
    },
    async sendMany(n: number): Promise<ProviderResult[]> {
      const results: ProviderResult[] = [];
      for (let i = 0; i < n; i++) results.push(await failover.send('hello'));
      return results;
    },
  };
}

describe('failover between providers', () => {
  it('sends everything to the first provider while it is healthy, naming it in each result', async () => {
    const { providers, failover, sendMany } = setUp();
    expect(failover.name).toBe('first|second');
    const results = await sendMany(10);
    expect(results.every((r) => r.provider === 'first' && r.outcome === 'accepted')).toBe(true);
    expect(providers[1]!.sends).toBe(0);
  });

  it('moves traffic to the next provider once the first fails often enough, and not before', async () => {
    const { providers, sendMany } = setUp();
    const [first, second] = providers;
    first!.outcome = 'retry';
    // Three failures are fewer than minSends (4): no judgement yet.
    const early = await sendMany(3);
    expect(early.map((r) => r.provider)).toEqual(['first', 'first', 'first']);
    const results = await sendMany(5);
    expect(results.map((r) => r.provider)).toEqual(['first', 'second', 'second', 'second', 'second']);
    expect(results[0]).toMatchObject({ outcome: 'retry', response: 'first said retry' });
    expect(results.slice(1).every((r) => r.outcome === 'accepted')).toBe(true);
    expect(second!.sends).toBe(4);
  });

  it('counts throttling and thrown errors as failures, and permanent failures as a working provider', async () => {
    const permanent = setUp();
    permanent.providers[0]!.outcome = 'permanent-failure';
    const refused = await permanent.sendMany(8);
    expect(refused.every((r) => r.provider === 'first' && r.outcome === 'permanent-failure')).toBe(true);

    const throttled = setUp();
    throttled.providers[0]!.outcome = 'throttled';
    expect((await throttled.sendMany(5)).map((r) => r.provider).at(-1)).toBe('second');

    const broken = setUp();
    broken.providers[0]!.outcome = 'throw';
    for (let i = 0; i < 4; i++) await expect(broken.failover.send('hello')).rejects.toThrow('first broke');
    expect((await broken.failover.send('hello')).provider).toBe('second');
  });

  it('forgets failures that have left the window', async () => {
    const { providers, advance, sendMany } = setUp();
    providers[0]!.outcome = 'retry';
    await sendMany(3);
    advance(61);
    providers[0]!.outcome = 'accepted';
    await sendMany(1);
    providers[0]!.outcome = 'retry';
    // 3 old failures gone: 1 success + 3 failures = 4 sends, 75% failed: trips on the fourth.
    const results = await sendMany(4);
    expect(results.map((r) => r.provider)).toEqual(['first', 'first', 'first', 'second']);
  });

  it('tries the first provider again after the cooldown and gives it back its traffic when it has recovered', async () => {
    const { providers, advance, sendMany } = setUp();
    providers[0]!.outcome = 'retry';
    await sendMany(4);
    expect((await sendMany(3)).every((r) => r.provider === 'second')).toBe(true);

    advance(29);
    expect((await sendMany(1))[0]!.provider).toBe('second');

    advance(1);
    providers[0]!.outcome = 'accepted';
    const results = await sendMany(5);
    expect(results.every((r) => r.provider === 'first' && r.outcome === 'accepted')).toBe(true);
  });

  it('trips again at once when the trial send after the cooldown fails', async () => {
    const { providers, advance, sendMany } = setUp();
    providers[0]!.outcome = 'retry';
    await sendMany(4);
    advance(30);
    const results = await sendMany(4);
    expect(results.map((r) => r.provider)).toEqual(['first', 'second', 'second', 'second']);
    expect(providers[0]!.sends).toBe(5);
    advance(30);
    providers[0]!.outcome = 'accepted';
    expect((await sendMany(1))[0]!.provider).toBe('first');
  });

  it('never waits on a provider on trial: one send probes it while the others go to the next provider', async () => {
    const { providers, failover, advance, sendMany } = setUp();
    const [first] = providers;
    first!.outcome = 'retry';
    await sendMany(4);
    advance(30);
    first!.outcome = 'hang';
    const probe = failover.send('probe');
    // While the trial send hangs, everything else flows through the second provider.
    const meanwhile = await sendMany(5);
    expect(meanwhile.every((r) => r.provider === 'second')).toBe(true);
    expect(first!.sends).toBe(5);
    first!.release();
    expect(await probe).toMatchObject({ outcome: 'accepted', provider: 'first' });
    first!.outcome = 'accepted';
    expect((await sendMany(1))[0]!.provider).toBe('first');
  });

  it('when every provider is failing, uses the one whose cooldown ends first', async () => {
    const { providers, advance, sendMany } = setUp(['first', 'second', 'third']);
    for (const p of providers) p.outcome = 'retry';
    await sendMany(4); // trips first at t0
    advance(10);
    await sendMany(4); // trips second at t0+10
    advance(10);
    await sendMany(4); // trips third at t0+20
    expect(providers.map((p) => p.sends)).toEqual([4, 4, 4]);
    // All tripped: the first's cooldown ends soonest. Its failure trips it again, so the second is next.
    const results = await sendMany(2);
    expect(results.map((r) => r.provider)).toEqual(['first', 'second']);
    providers[2]!.outcome = 'accepted';
    advance(30); // first and second have rested; third's rest ends later but first is tried first
    expect((await sendMany(1))[0]!.provider).toBe('first');
  });
});

describe('createProviders builds the configured chain', () => {
  let tdb: TestDatabase;
  let aws: AwsPeer;
  let twilio: TwilioPeer;
  let smtp: SmtpPeer;

  beforeAll(async () => {
    [tdb, aws, twilio, smtp] = await Promise.all([
      openTestDatabase(),
      startAwsPeer(),
      startTwilioPeer(),
      startSmtpPeer(),
    ]);
  });

  afterAll(async () => {
    await Promise.all([tdb?.close(), aws?.close(), twilio?.close(), smtp?.close()]);
  });

  const env = () => ({
    ...awsPeerEnv(aws),
    SMTP_URL: smtp.url,
    TWILIO_ACCOUNT_SID: TWILIO_TEST_ACCOUNT.accountSid,
    TWILIO_AUTH_TOKEN: TWILIO_TEST_ACCOUNT.authToken,
    TWILIO_FROM: '+16135550100',
    TWILIO_API_URL: twilio.url,
    PROVIDER_FAILOVER_MIN_SENDS: '3',
    PROVIDER_FAILOVER_ERROR_RATE: '0.5',
    PROVIDER_FAILOVER_COOLDOWN_SECONDS: '1',
  });

  function email(n: number): EmailMessage {
    const id = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
    return {
      notificationId: id,
      serviceId: '0d6f3e51-7a43-4b6b-9a57-5c1b7c8d2e10',
      from: { name: 'Passport Office', address: 'passports@notify.test.example' },
      to: 'alice@example.com',
      replyTo: null,
      subject: 'Your passport',
      text: 'Ready.',
      html: '<p>Ready.</p>',
      messageId: `<${id}@notify.test.example>`,
      bounceAddress: null,
      unsubscribeUrl: null,
    };
  }

  it('EMAIL_PROVIDER=ses,smtp sends through SES, moves to SMTP while SES fails, and returns to SES after the cooldown', async () => {
    const providers = createProviders(testConfig({ ...env(), EMAIL_PROVIDER: 'ses,smtp' }), tdb.db);
    try {
      expect(providers.email.name).toBe('ses|smtp');
      expect(providers.sms.name).toBe('sink');
      expect(await providers.email.send(email(1))).toMatchObject({ outcome: 'accepted', provider: 'ses' });

      aws.fail('SendEmail', faults.sesInternal);
      const failing = [];
      for (let i = 2; i <= 6; i++) failing.push(await providers.email.send(email(i)));
      // 1 success and 2 failures: 3 sends, 67% failed, past 50%: SES is skipped from the fourth send on.
      expect(failing.map((r) => `${r.provider}:${r.outcome}`)).toEqual([
        'ses:retry',
        'ses:retry',
        'smtp:delivered',
        'smtp:delivered',
        'smtp:delivered',
      ]);
      expect(smtp.received.map((m) => m.headers.get('message-id'))).toEqual([
        email(4).messageId,
        email(5).messageId,
        email(6).messageId,
      ]);

      aws.heal('SendEmail');
      const sesBefore = aws.requests.length;
      // Only to let the one-second cooldown pass; nothing is measured.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect(await providers.email.send(email(7))).toMatchObject({ outcome: 'accepted', provider: 'ses' });
      expect(aws.requests.length).toBe(sesBefore + 1);
    } finally {
      await providers.close();
    }
  });

  it('SMS_PROVIDER=twilio,aws-sms builds both in that order, and one provider alone is not wrapped', async () => {
    const chain = createProviders(
      testConfig({ ...env(), SMS_PROVIDER: 'twilio,aws-sms', EMAIL_PROVIDER: 'smtp' }),
      tdb.db,
    );
    try {
      expect(chain.sms.name).toBe('twilio|aws-sms');
      expect(chain.email.name).toBe('smtp');
      const sms: SmsMessage = {
        notificationId: '7d1f0a2c-8a9e-4c1b-b5e3-0c6e2d4f9a01',
        serviceId: '0d6f3e51-7a43-4b6b-9a57-5c1b7c8d2e10',
        to: '+16135550123',
        sender: null,
        body: 'Ready.',
      };
      expect(await chain.sms.send(sms)).toMatchObject({ outcome: 'accepted', provider: 'twilio' });
      twilio.fail(twilioFaults.serviceUnavailable);
      const results = [];
      for (let i = 0; i < 4; i++) results.push(await chain.sms.send(sms));
      expect(results.map((r) => r.provider)).toEqual(['twilio', 'twilio', 'aws-sms', 'aws-sms']);
      expect(aws.requests.filter((r) => r.operation === 'SendTextMessage')).toHaveLength(2);
    } finally {
      twilio.heal();
      await chain.close();
    }
  });
});
