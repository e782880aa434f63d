/**
 * Encryption at rest for API key and 2FA secrets (AES-256-GCM), and a keyed digest to find a row by its secret
 * without storing the secret in the clear. Both keys are derived from the one configured secret (ENVOI_SECRET_KEY)
 * with HKDF, so the encryption key and the digest key are independent.
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

export class SecretBox {
  readonly #encryptionKey: Buffer;
  readonly #digestKey: Buffer;

  constructor(secretKey: string) {
    if (typeof secretKey !== 'string' || secretKey.length < MIN_SECRET_LENGTH) {
      throw new SecretBoxError(`SecretBox needs a secret key of at least ${MIN_SECRET_LENGTH} characters`);
    }
    this.#encryptionKey = deriveKey(secretKey, 'aes-256-gcm');
    this.#digestKey = deriveKey(secretKey, 'hmac-sha256');
  }

  /** `v1.<base64url(iv ‖ ciphertext ‖ tag)>`; a fresh random IV each time, so equal inputs seal differently. */
  seal(plain: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#encryptionKey, iv);
    // The version is authenticated too, so a sealed value cannot be relabelled as another format.
    cipher.setAAD(Buffer.from(VERSION));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${VERSION}.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
  }

  /** Throws SecretBoxError when the value is malformed, was altered, or was sealed under another key. */
  open(sealed: string): string {
    const dot = typeof sealed === 'string' ? sealed.indexOf('.') : -1;
    const version = dot === -1 ? '' : sealed.slice(0, dot);
    if (version !== VERSION) {
      throw new SecretBoxError(`Cannot open sealed secret: unknown format ${JSON.stringify(version || sealed)}`);
    }
    const raw = Buffer.from(sealed.slice(dot + 1), 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new SecretBoxError('Cannot open sealed secret: it is truncated');

    const decipher = createDecipheriv('aes-256-gcm', this.#encryptionKey, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(VERSION));
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    try {
      return Buffer.concat([
        decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new SecretBoxError(
        'Cannot open sealed secret: it was altered, or sealed with a different ENVOI_SECRET_KEY',
      );
    }
  }

  /** Deterministic keyed HMAC-SHA256 (hex): equal inputs give equal digests, unguessable without the key. */
  digest(value: string): string {
    return createHmac('sha256', this.#digestKey).update(value, 'utf8').digest('hex');
  }
}

/** A new secret key for configuration: 32 random bytes, base64url (43 characters). */
export function generateSecretKey(): string {
  return randomBytes(32).toString('base64url');
}
