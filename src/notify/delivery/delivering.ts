/**
 * Delivering for the delivery worker: one rendered notification handed to its channel's provider (failover between
 * providers lives in providers/failover.ts), the provider's answer turned into an outcome, and each channel's gate
 * slowed down when its provider asks (Retry-After).
 */
import type { Logger } from '../../platform/queue/background.ts';
import type { Retry } from '../../platform/queue/claim-queue.ts';
import { finalFor, type DeliveryOutcomes } from './outcomes.ts';
import type { Providers } from './providers/index.ts';
import type { EmailMessage, ProviderResult } from './providers/types.ts';
import { smsFragments, type ClaimedNotification, type Renderer } from './rendering.ts';

export type ChannelGate = ReturnType<typeof channelGate>;

export interface Deliverer {
  /** Renders the row, hands it to a provider and records the outcome; never throws. */
  deliver(row: ClaimedNotification): Promise<void>;
  gates: Record<'email' | 'sms', ChannelGate>;
}

export interface DelivererOptions {
  providers: Providers;
  renderer: Renderer;
  outcomes: DeliveryOutcomes;
  /** Each channel's sends in flight at most. */
  concurrency: number;
  /** A failed attempt's retry, or null once the row has had its attempts. */
  retry(row: ClaimedNotification, response: string): Retry | null;
  log?: Logger;
}

export function createDeliverer(opts: DelivererOptions): Deliverer {
  const { providers, renderer, outcomes, log } = opts;
  const gates = { email: channelGate(opts.concurrency), sms: channelGate(opts.concurrency) };

  /** Sends the row; null when it could not be rendered (its outcome already recorded). */
  async function send(
    row: ClaimedNotification,
  ): Promise<{ result: ProviderResult; billableUnits: number | null } | null> {
    try {
      if (row.notification_type === 'sms') {
        const billableUnits = smsFragments(row);
        return { result: await providers.sms.send(renderer.sms(row)), billableUnits };
      }
      let msg: EmailMessage;
      try {
        msg = renderer.email(row);
      } catch (err) {
        // Rendering fails the same way every time: no point retrying.
        log?.error({ err, notificationId: row.id }, 'could not render email');
        outcomes.settle(
          row,
          finalFor(row, 'technical-failure', { response: `render failed: ${(err as Error).message}` }),
          null,
        );
        return null;
      }
      return { result: await providers.email.send(msg), billableUnits: null };
    } catch (err) {
      return {
        result: { outcome: 'retry', response: `provider error: ${(err as Error).message}` },
        billableUnits: null,
      };
    }
  }

  async function deliver(row: ClaimedNotification): Promise<void> {
    const sent = await send(row);
    if (!sent) return;
    const { result, billableUnits } = sent;
    const sentAt = new Date();
    const providerName = result.provider ?? providers[row.notification_type].name;
    const gate = gates[row.notification_type];
    if (result.outcome === 'throttled') gate.throttled(result.retryAfterMs);
    else if (result.outcome !== 'retry') gate.succeeded();
    switch (result.outcome) {
      case 'delivered':
      case 'accepted': {
        const final = finalFor(row, result.outcome === 'delivered' ? 'delivered' : 'sending', {
          provider: providerName,
          reference: result.reference,
          response: result.response,
          sentAt,
          billableUnits,
        });
        outcomes.settle(row, final, providerName);
        outcomes.handedOff(row, sentAt);
        break;
      }
      case 'permanent-failure':
        outcomes.settle(
          row,
          finalFor(row, 'permanent-failure', { provider: providerName, response: result.response }),
          providerName,
        );
        break;
      case 'retry': {
        log?.warn(
          { notificationId: row.id, attempts: row.attempts, response: result.response },
          'delivery attempt failed',
        );
        const retry = opts.retry(row, result.response);
        outcomes.settle(
          row,
          retry ? { retry } : finalFor(row, 'technical-failure', { provider: providerName, response: result.response }),
          providerName,
        );
        break;
      }
      case 'throttled':
        log?.warn({ provider: providerName, response: result.response }, 'provider asked to slow down');
        outcomes.settle(
          row,
          { throttled: { id: row.id, attempts: row.attempts, delayMs: gate.pauseLeftMs() } },
          providerName,
        );
        break;
    }
  }

  return { deliver, gates };
}

/**
 * How hard one channel may be pushed. A provider's throttling answer halves the sends it may have in flight and
 * pauses the channel for its Retry-After (or a doubling pause); each success gives one slot back. So a throttled
 * provider is slowed down rather than hammered, and its messages wait without using up their attempts.
 */
function channelGate(maxInFlight: number) {
  let limit = maxInFlight;
  let pausedUntil = 0;
  let pauseMs = 0;
  return {
    inFlight: 0,
    hasRoom(): boolean {
      return this.inFlight < limit;
    },
    pauseLeftMs(): number {
      return Math.max(0, pausedUntil - Date.now());
    },
    throttled(retryAfterMs?: number): void {
      limit = Math.max(1, Math.floor(limit / 2));
      pauseMs = Math.min(30_000, Math.max(250, pauseMs * 2));
      pausedUntil = Math.max(pausedUntil, Date.now() + (retryAfterMs ?? pauseMs));
    },
    succeeded(): void {
      limit = Math.min(maxInFlight, limit + 1);
      if (limit === maxInFlight) pauseMs = 0;
    },
  };
}
