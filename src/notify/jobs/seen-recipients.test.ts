import { describe, expect, it } from 'vitest';
import { SeenRecipients } from './seen-recipients.ts';

describe('SeenRecipients', () => {
  it('tells a new recipient from one already added, across growth', () => {
    const seen = new SeenRecipients(16);
    for (let i = 0; i < 50_000; i++) expect(seen.add(`+1604${String(i).padStart(7, '0')}`)).toBe(false);
    expect(seen.size).toBe(50_000);
    for (let i = 0; i < 50_000; i += 997) expect(seen.add(`+1604${String(i).padStart(7, '0')}`)).toBe(true);
    expect(seen.size).toBe(50_000);
    expect(seen.has('+16040000001')).toBe(true);
    expect(seen.has('+16049999999')).toBe(false);
  });

  it('keeps strings that differ only slightly apart, the empty string included', () => {
    const seen = new SeenRecipients();
    const values = ['', 'a', 'b', 'ab', 'ba', 'a@example.com', 'a@example.co', 'A@example.com', 'é', 'e\u0301', '😀'];
    for (const value of values) expect(seen.add(value)).toBe(false);
    for (const value of values) expect(seen.add(value)).toBe(true);
  });
});
