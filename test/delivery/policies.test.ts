/** The retry rules on their own: how long to wait, and which SMTP errors are worth another try. */
import { describe, expect, it } from 'vitest';
import { backoffMs, LANE_BACKOFF, laneBackoffMs } from '../../src/platform/queue/claim-queue.ts';
import { classify } from '../../src/notify/delivery/providers/smtp.ts';

describe('backoff', () => {
  it('doubles per attempt up to its cap, jittered within the upper half', () => {
    const policy = { baseMs: 1000, maxMs: 5000 };
    expect([1, 2, 3, 4].map((n) => backoffMs(n, policy, () => 1))).toEqual([1000, 2000, 4000, 5000]);
    expect([1, 2, 3, 4].map((n) => backoffMs(n, policy, () => 0))).toEqual([500, 1000, 2000, 2500]);
  });

  it('retries the high lane sooner than normal, and normal sooner than bulk', () => {
    for (const attempt of [1, 3, 10]) {
      const [high, normal, bulk] = [0, 1, 2].map((lane) => backoffMs(attempt, LANE_BACKOFF[lane]!, () => 1));
      expect(high).toBeLessThan(normal!);
      expect(normal).toBeLessThan(bulk!);
    }
    expect(laneBackoffMs(1, 7)).toBeLessThanOrEqual(LANE_BACKOFF[1]!.baseMs);
  });
});

describe('SMTP error classification', () => {
  it('gives up on a 5xx refusal of the message', () => {
    expect(
      classify({
        name: 'Error',
        message: 'x',
        code: 'EENVELOPE',
        responseCode: 550,
        response: '550 5.1.1 No such user',
      }),
    ).toEqual({ outcome: 'permanent-failure', response: '550 5.1.1 No such user' });
  });

  it('tries again after deferrals, connection trouble, a refused login or a 503', () => {
    const cases = [
      { code: 'EENVELOPE', responseCode: 451, response: '451 Try later' },
      { code: 'ESOCKET', message: 'connect ECONNREFUSED 127.0.0.1:25' },
      { code: 'ETIMEDOUT', message: 'Greeting never received' },
      { code: 'EAUTH', responseCode: 535, response: '535 Authentication failed' },
      { code: 'EPROTOCOL', responseCode: 503, response: '503 Bad sequence of commands' },
    ];
    for (const c of cases) {
      expect(classify({ name: 'Error', message: '', ...c }).outcome, JSON.stringify(c)).toBe('retry');
    }
    expect(classify({ name: 'Error', code: 'ESOCKET', message: 'connect ECONNREFUSED 127.0.0.1:25' }).response).toBe(
      'ESOCKET: connect ECONNREFUSED 127.0.0.1:25',
    );
  });
});
