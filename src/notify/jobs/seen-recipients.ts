/**
 * A compact "have I seen this recipient before?" set for lists of up to millions of rows: each recipient is kept
 * as a 64-bit hash in an open-addressing table (8 bytes a slot, at most half full: about 16 MB for a million
 * recipients, against roughly 100 MB for a Set of strings). Two different recipients share a hash with
 * probability about n² / 2⁶⁵ (3 in 100 million for a million rows); it is used only to warn about duplicates.
 */

function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Two 32-bit hashes of a string's UTF-16 code units, seeded differently and mixed across each other. */
function hash64(text: string): [number, number] {
  let a = 0x9e3779b9 ^ text.length;
  let b = 0x7f4a7c15 ^ Math.imul(text.length, 0x27d4eb2f);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0xcc9e2d51);
    a = (a << 15) | (a >>> 17);
    b = Math.imul(b ^ c, 0x1b873593);
    b = (b << 13) | (b >>> 19);
    b = (b + a) | 0;
  }
  const high = mix(a ^ Math.imul(b, 0x165667b1));
  const low = mix(b ^ (a >>> 7));
  return [high, low];
}

export class SeenRecipients {
  private high: Uint32Array;
  private low: Uint32Array;
  private mask: number;
  private count = 0;

  constructor(initialCapacity = 1024) {
    let capacity = 16;
    while (capacity < initialCapacity) capacity *= 2;
    this.high = new Uint32Array(capacity);
    this.low = new Uint32Array(capacity);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Adds the recipient; true if it was already there. */
  add(recipient: string): boolean {
    let [high, low] = hash64(recipient);
    if (high === 0 && low === 0) low = 1; // (0, 0) marks an empty slot
    if ((this.count + 1) * 2 > this.high.length) this.grow();
    return this.insert(high, low);
  }

  has(recipient: string): boolean {
    let [high, low] = hash64(recipient);
    if (high === 0 && low === 0) low = 1;
    for (let slot = low & this.mask; ; slot = (slot + 1) & this.mask) {
      const h = this.high[slot]!;
      const l = this.low[slot]!;
      if (h === 0 && l === 0) return false;
      if (h === high && l === low) return true;
    }
  }

  private insert(high: number, low: number): boolean {
    for (let slot = low & this.mask; ; slot = (slot + 1) & this.mask) {
      const h = this.high[slot]!;
      const l = this.low[slot]!;
      if (h === 0 && l === 0) {
        this.high[slot] = high;
        this.low[slot] = low;
        this.count++;
        return false;
      }
      if (h === high && l === low) return true;
    }
  }

  private grow(): void {
    const oldHigh = this.high;
    const oldLow = this.low;
    this.high = new Uint32Array(oldHigh.length * 2);
    this.low = new Uint32Array(oldLow.length * 2);
    this.mask = this.high.length - 1;
    this.count = 0;
    for (let i = 0; i < oldHigh.length; i++) {
      if (oldHigh[i] !== 0 || oldLow[i] !== 0) this.insert(oldHigh[i]!, oldLow[i]!);
    }
  }
}
