/**
 * Encryption at rest for API key and 2FA secrets (AES-256-GCM), and a keyed digest to find a row by its secret
 * without storing the secret in the clear. Both keys are derived from the one configured secret (ENVOI_SECRET_KEY)
 * with HKDF, so the encryption key and the digest key are independent.
 *
 * Rotating the secret: the box is given the new key and the previous ones (ENVOI_SECRET_KEY_PREVIOUS). It seals
 * and digests with the new key only, and opens and looks up with any of them, until `envoi rotate-secret-key` has
 * sealed everything again (reseal) and the previous keys can be dropped.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const MIN_SECRET_LENGTH = 16;

export class SecretBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

function deriveKey(secretKey: string, purpose: string): Buffer {
  // Salt fixed and public: the configured secret is already high-entropy; `info` separates the two uses.
  return Buffer.from(hkdfSync('sha256', secretKey, 'envoi', `envoi secret-box ${VERSION} ${purpose}`, 32));
}

interface Keys {
  encryption: Buffer;
  digest: Buffer;
}

function keysOf(secretKey: string): Keys {
  if (typeof secretKey !== 'string' || secretKey.length < MIN_SECRET_LENGTH) {
    throw new SecretBoxError(`SecretBox needs a secret key of at least ${MIN_SECRET_LENGTH} characters`);
  }
  return { encryption: deriveKey(secretKey, 'aes-256-gcm'), digest: deriveKey(secretKey, 'hmac-sha256') };
}

export class SecretBox {
  readonly #current: Keys;
  readonly #previous: readonly Keys[];

  /** `previousKeys`: keys that sealed values before the current one, still accepted for opening and look-ups. */
  constructor(secretKey: string, previousKeys: readonly string[] = []) {
    this.#current = keysOf(secretKey);
    this.#previous = previousKeys.filter((k) => k !== secretKey).map(keysOf);
  }

  /** `v1.<base64url(iv ‖ ciphertext ‖ tag)>`; a fresh random IV each time, so equal inputs seal differently. */
  seal(plain: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#current.encryption, iv);
    // The version is authenticated too, so a sealed value cannot be relabelled as another format.
    cipher.setAAD(Buffer.from(VERSION));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${VERSION}.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
  }

  /** Throws SecretBoxError when the value is malformed, was altered, or was sealed under none of the keys. */
  open(sealed: string): string {
    return this.#openWith(sealed).plain;
  }

  /**
   * The value sealed again under the current key, with its plain text; `resealed` null when the current key sealed
   * it already. Throws as open() does.
   */
  reseal(sealed: string): { plain: string; resealed: string | null } {
    const { plain, current } = this.#openWith(sealed);
    return { plain, resealed: current ? null : this.seal(plain) };
  }

  #openWith(sealed: string): { plain: string; current: boolean } {
    const dot = typeof sealed === 'string' ? sealed.indexOf('.') : -1;
    const version = dot === -1 ? '' : sealed.slice(0, dot);
    if (version !== VERSION) {
      throw new SecretBoxError(`Cannot open sealed secret: unknown format ${JSON.stringify(version || sealed)}`);
    }
    const raw = Buffer.from(sealed.slice(dot + 1), 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new SecretBoxError('Cannot open sealed secret: it is truncated');
    for (const keys of [this.#current, ...this.#previous]) {
      const plain = decrypt(keys.encryption, raw);
      if (plain !== null) return { plain, current: keys === this.#current };
    }
    throw new SecretBoxError('Cannot open sealed secret: it was altered, or sealed with a different ENVOI_SECRET_KEY');
  }

  /** Deterministic keyed HMAC-SHA256 (hex): equal inputs give equal digests, unguessable without the key. */
  digest(value: string): string {
    return hmac(this.#current.digest, value);
  }

  /** The digest under the current key, then under each previous one: what a stored digest may be mid-rotation. */
  digests(value: string): string[] {
    return [this.#current, ...this.#previous].map((keys) => hmac(keys.digest, value));
  }
}

function hmac(key: Buffer, value: string): string {
  return createHmac('sha256', key).update(value, 'utf8').digest('hex');
}

/** The plain text, or null when this key did not seal it (or it was altered). */
function decrypt(key: Buffer, raw: Buffer): string | null {
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(VERSION));
  decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    return null;
  }
}

/** A new secret key for configuration: 32 random bytes, base64url (43 characters). */
export function generateSecretKey(): string {
  return randomBytes(32).toString('base64url');
}
