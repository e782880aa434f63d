/**
 * A per-IP limit on attempts (sign-in, codes, sign-up, reset requests), kept in memory: each replica counts its
 * own, which is enough to slow down guessing from one address; the per-account lockout is in the database.
 */
export class AttemptThrottle {
  readonly #hits = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Counts one attempt; false when the address is over its limit. */
  allow(key: string, now = Date.now()): boolean {
    const since = now - this.windowMs;
    const hits = (this.#hits.get(key) ?? []).filter((at) => at > since);
    if (hits.length >= this.limit) {
      this.#hits.set(key, hits);
      return false;
    }
    hits.push(now);
    this.#hits.set(key, hits);
    if (this.#hits.size > 10_000) this.#sweep(since);
    return true;
  }

  #sweep(since: number): void {
    for (const [key, hits] of this.#hits) if (!hits.some((at) => at > since)) this.#hits.delete(key);
  }
}
