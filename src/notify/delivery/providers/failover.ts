/**
 * Failover over an ordered list of providers of one channel, itself a provider of that channel.
 *
 * Each provider has a circuit breaker. Its outcomes over the last `windowSeconds` are counted in one-second
 * buckets; once at least `minSends` sends are in the window and the failed share (retry, throttled, or a send
 * that threw) reaches `errorRate`, the provider trips: it gets no traffic for `cooldownSeconds`. After that it is
 * half-open: one send at a time goes to it as a probe while the rest keep flowing to the next provider; a
 * successful probe closes the breaker with a clean window, a failed one trips it again.
 *
 * Traffic goes to the first provider in order that is not tripped. If all are tripped, to the one whose cooldown
 * ends first, and its answers count as probes (so one success brings it back). A failing send is not re-sent to
 * the next provider at once: the first may have taken it despite the error (a timeout), and the worker's retry
 * will find the healthy provider anyway. Nothing here waits: a tripped provider is simply not called.
 *
 * `delivered`, `accepted` and `permanent-failure` are successes: the provider worked, whatever the recipient's fate.
 */
import type { Logger } from '../../../platform/queue/background.ts';
import type { ProviderResult } from './types.ts';

/** EmailProvider and SmsProvider, for the channel's message type M. */
export interface ChannelProvider<M> {
  readonly name: string;
  send(msg: M): Promise<ProviderResult>;
  close(): Promise<void>;
}

export interface FailoverOptions {
  errorRate: number;
  windowSeconds: number;
  minSends: number;
  cooldownSeconds: number;
  /** Milliseconds since the epoch; injectable so tests can move time. */
  now?: () => number;
  logger?: Logger;
}

interface Bucket {
  second: number;
  sends: number;
  failed: number;
}

class Breaker {
  private buckets: Bucket[] = [];
  private sends = 0;
  private failed = 0;
  /** Null: closed (taking traffic). Otherwise tripped until then, half-open after. */
  trippedUntil: number | null = null;
  probing = false;

  constructor(
    readonly name: string,
    private readonly opts: Required<Omit<FailoverOptions, 'logger'>> & { logger?: Logger },
  ) {}

  /** Counts one outcome while closed; true when it trips the breaker. */
  count(now: number, failed: boolean): boolean {
    const second = Math.floor(now / 1000);
    this.forget(second);
    let last = this.buckets[this.buckets.length - 1];
    if (!last || last.second !== second) {
      last = { second, sends: 0, failed: 0 };
      this.buckets.push(last);
    }
    last.sends++;
    this.sends++;
    if (failed) {
      last.failed++;
      this.failed++;
    }
    if (this.sends >= this.opts.minSends && this.failed / this.sends >= this.opts.errorRate) {
      this.trip(now, `${this.failed} of ${this.sends} sends failed in ${this.opts.windowSeconds} s`);
      return true;
    }
    return false;
  }

  trip(now: number, why: string): void {
    // Said once per outage: not again for each failed send while every provider is tripped.
    const news = this.trippedUntil === null || this.trippedUntil <= now;
    this.trippedUntil = now + this.opts.cooldownSeconds * 1000;
    this.reset();
    if (!news) return;
    this.opts.logger?.warn(
      { provider: this.name, cooldownSeconds: this.opts.cooldownSeconds },
      `provider ${this.name} is failing (${why}): traffic moves to the next provider`,
    );
  }

  recover(): void {
    this.trippedUntil = null;
    this.reset();
    this.opts.logger?.info({ provider: this.name }, `provider ${this.name} recovered: it takes traffic again`);
  }

  private reset(): void {
    this.buckets = [];
    this.sends = 0;
    this.failed = 0;
  }

  private forget(second: number): void {
    const oldest = second - this.opts.windowSeconds;
    while (this.buckets.length > 0 && this.buckets[0]!.second <= oldest) {
      const gone = this.buckets.shift()!;
      this.sends -= gone.sends;
      this.failed -= gone.failed;
    }
  }
}

/** The providers behind each failover provider, and which one takes its traffic now (for /metrics). */
const choices = new WeakMap<object, { names: string[]; inUse(): string }>();

/**
 * A channel's providers in order and the one whose turn it is: the first whose breaker is closed, else (all
 * tripped) the one whose cooldown ends first. A half-open provider's single trial send does not make it the
 * one in use. A provider without failover is always in use.
 */
export function providerChoice(provider: { readonly name: string }): { names: string[]; inUse(): string } {
  return choices.get(provider) ?? { names: [provider.name], inUse: () => provider.name };
}

export function createFailoverProvider<M>(
  providers: Array<ChannelProvider<M>>,
  opts: FailoverOptions,
): ChannelProvider<M> {
  if (providers.length === 0) throw new Error('failover needs at least one provider');
  const now = opts.now ?? Date.now;
  const breakers = providers.map((p) => new Breaker(p.name, { ...opts, now }));

  /** With every breaker tripped: the one whose cooldown ends first. */
  function soonestBack(): number {
    let soonest = 0;
    for (let i = 1; i < breakers.length; i++) {
      if (breakers[i]!.trippedUntil! < breakers[soonest]!.trippedUntil!) soonest = i;
    }
    return soonest;
  }

  function inUse(): number {
    const closed = breakers.findIndex((b) => b.trippedUntil === null);
    return closed >= 0 ? closed : soonestBack();
  }

  /** The provider to use now, and whether its answer decides a half-open (or all-tripped) breaker. */
  function choose(at: number): { index: number; probe: boolean } {
    for (let i = 0; i < breakers.length; i++) {
      const b = breakers[i]!;
      if (b.trippedUntil === null) return { index: i, probe: false };
      if (at >= b.trippedUntil && !b.probing) return { index: i, probe: true };
    }
    return { index: soonestBack(), probe: true };
  }

  function settle(b: Breaker, probe: boolean, failed: boolean): void {
    const at = now();
    if (b.trippedUntil === null) {
      b.count(at, failed);
    } else if (probe) {
      if (failed) b.trip(at, 'a trial send failed');
      else b.recover();
    }
    // Otherwise: a send that began before the breaker tripped; it no longer says anything about the provider.
  }

  const failover: ChannelProvider<M> = {
    name: providers.map((p) => p.name).join('|'),
    async send(msg: M): Promise<ProviderResult> {
      const { index, probe } = choose(now());
      const provider = providers[index]!;
      const breaker = breakers[index]!;
      const ownProbe = probe && breaker.trippedUntil !== null && !breaker.probing;
      if (ownProbe) breaker.probing = true;
      try {
        const result = await provider.send(msg);
        settle(breaker, probe, result.outcome === 'retry' || result.outcome === 'throttled');
        return { ...result, provider: result.provider ?? provider.name };
      } catch (err) {
        settle(breaker, probe, true);
        throw err;
      } finally {
        if (ownProbe) breaker.probing = false;
      }
    },
    async close() {
      await Promise.all(providers.map((p) => p.close()));
    },
  };
  choices.set(failover, { names: providers.map((p) => p.name), inUse: () => providers[inUse()]!.name });
  return failover;
}
