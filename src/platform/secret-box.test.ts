import { describe, expect, it } from 'vitest';
import { generateSecretKey, SecretBox, SecretBoxError } from './secret-box.ts';

const box = new SecretBox('a-configured-secret-key-of-32-chars!');

/** Flips one bit of the byte at `index` inside the base64url body of a sealed value. */
function flipByte(sealed: string, index: number): string {
  const [version, body] = sealed.split('.');
  const raw = Buffer.from(body, 'base64url');
  raw[index] ^= 0x01;
  return `${version}.${raw.toString('base64url')}`;
}

describe('SecretBox', () => {
  it('opens what it sealed, including non-ASCII text', () => {
    for (const plain of ['3d844edf-8d35-48ac-975b-e847b4f122b0', '', 'clé secrète ✓ 例え']) {
      expect(box.open(box.seal(plain))).toBe(plain);
    }
  });

  it('produces a versioned base64url string that does not contain the secret', () => {
    const secret = '3d844edf-8d35-48ac-975b-e847b4f122b0';
    const sealed = box.seal(secret);
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain(secret);
    expect(Buffer.from(sealed.slice(3), 'base64url').toString('latin1')).not.toContain(secret);
  });

  it('seals the same value differently every time (random IV)', () => {
    expect(box.seal('same')).not.toBe(box.seal('same'));
  });

  it('opens values sealed by another instance with the same configured key (another replica)', () => {
    const replica = new SecretBox('a-configured-secret-key-of-32-chars!');
    expect(replica.open(box.seal('shared'))).toBe('shared');
  });

  it.each([
    ['the IV', 0],
    ['the ciphertext', 13],
    ['the tag', -1],
  ])('detects tampering with %s', (_, position) => {
    const sealed = box.seal('a secret worth protecting');
    const length = Buffer.from(sealed.slice(3), 'base64url').length;
    const tampered = flipByte(sealed, position < 0 ? length + position : position);
    expect(() => box.open(tampered)).toThrow(SecretBoxError);
    expect(() => box.open(tampered)).toThrow(/altered, or sealed with a different ENVOI_SECRET_KEY/);
  });

  it('refuses values sealed under a different key', () => {
    const other = new SecretBox('another-configured-secret-key-32ch');
    expect(() => other.open(box.seal('x'))).toThrow(/different ENVOI_SECRET_KEY/);
  });

  it('rejects unknown versions and truncated values with a clear error', () => {
    const sealed = box.seal('x');
    expect(() => box.open(`v2${sealed.slice(2)}`)).toThrow(/unknown format "v2"/);
    expect(() => box.open('plaintext-secret')).toThrow(/unknown format/);
    expect(() => box.open('v1.AAAA')).toThrow(/truncated/);
  });

  it('refuses a missing or short configured key', () => {
    expect(() => new SecretBox('')).toThrow(SecretBoxError);
    expect(() => new SecretBox('short')).toThrow(/at least 16 characters/);
  });

  describe('digest', () => {
    it('is deterministic and keyed', () => {
      const other = new SecretBox('another-configured-secret-key-32ch');
      expect(box.digest('secret')).toBe(new SecretBox('a-configured-secret-key-of-32-chars!').digest('secret'));
      expect(box.digest('secret')).not.toBe(other.digest('secret'));
      expect(box.digest('secret')).not.toBe(box.digest('secret2'));
      expect(box.digest('secret')).toMatch(/^[0-9a-f]{64}$/);
    });

    it('is not a plain SHA-256 of the value', async () => {
      const { createHash } = await import('node:crypto');
      expect(box.digest('secret')).not.toBe(createHash('sha256').update('secret').digest('hex'));
    });
  });
});

describe('generateSecretKey', () => {
  it('makes 32 random bytes as base64url, usable by SecretBox', () => {
    const key = generateSecretKey();
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(key, 'base64url')).toHaveLength(32);
    expect(generateSecretKey()).not.toBe(key);
    const fresh = new SecretBox(key);
    expect(fresh.open(fresh.seal('ok'))).toBe('ok');
  });
});

describe('SecretBox with previous keys (rotating ENVOI_SECRET_KEY)', () => {
  const oldKey = 'a-configured-secret-key-of-32-chars!';
  const newKey = 'the-next-configured-secret-key-32ch!';
  const rotating = new SecretBox(newKey, [oldKey]);

  it('opens values sealed under a previous key, and seals only under the current one', () => {
    const old = box.seal('api-key-secret');
    expect(rotating.open(old)).toBe('api-key-secret');
    expect(new SecretBox(newKey).open(rotating.seal('fresh'))).toBe('fresh');
    expect(() => box.open(rotating.seal('fresh'))).toThrow(SecretBoxError);
  });

  it('reseals what a previous key sealed, and leaves alone what the current key sealed', () => {
    const { plain, resealed } = rotating.reseal(box.seal('token'));
    expect(plain).toBe('token');
    expect(new SecretBox(newKey).open(resealed!)).toBe('token');
    expect(rotating.reseal(rotating.seal('token'))).toEqual({ plain: 'token', resealed: null });
  });

  it('still refuses values sealed under a key it was not given, or altered', () => {
    const stranger = new SecretBox('another-configured-secret-key-32ch');
    expect(() => rotating.reseal(stranger.seal('x'))).toThrow(/different ENVOI_SECRET_KEY/);
    expect(() => rotating.open(flipByte(box.seal('x'), 20))).toThrow(SecretBoxError);
  });

  it('digests under the current key, and offers the previous digests for look-ups', () => {
    expect(rotating.digest('secret')).toBe(new SecretBox(newKey).digest('secret'));
    expect(rotating.digests('secret')).toEqual([rotating.digest('secret'), box.digest('secret')]);
  });
});
