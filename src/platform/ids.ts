/**
 * Identifiers: the shape of a UUID, and time-ordered UUIDs (v7) for rows written in bulk.
 */
import { randomBytes } from 'node:crypto';

/** A UUID in its hyphenated form, in either letter case. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `text` is a UUID in its hyphenated form (any version, either letter case). */
export function isUuid(text: string): boolean {
  return UUID.test(text);
}

/** The canonical form: what every client sends, returned as it is. */
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A service id in the forms Python's `uuid.UUID()` accepts (hyphens optional, braces, `urn:uuid:`), returned as
 * the canonical lower-case hyphenated string, or undefined.
 */
export function canonicalUuid(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  // What every client sends: nothing to rewrite.
  if (CANONICAL_UUID.test(value)) return value;
  const hex = value
    .replaceAll('urn:', '')
    .replaceAll('uuid:', '')
    .replace(/^[{}]+|[{}]+$/g, '')
    .replaceAll('-', '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) return undefined;
  const h = hex.toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

let uuidMs = 0;
let uuidSeq = 0;
let uuidTime = '';
let randomHex = '';
let randomAt = 0;

/**
 * A UUIDv7 (RFC 9562: millisecond time, then a counter, then random bits). A job's rows get ids in increasing
 * order, so they land at the right edge of the primary key index instead of on a random page each: COPY of a
 * large job is markedly faster. Single sends keep random ids; the API treats both alike.
 */
export function timeOrderedUuid(): string {
  const now = Date.now();
  if (now > uuidMs) {
    uuidMs = now;
    uuidSeq = 0;
    uuidTime = '';
  } else if (++uuidSeq > 0xfff) {
    uuidMs += 1; // more than 4,096 ids in one millisecond: borrow the next one
    uuidSeq = 0;
    uuidTime = '';
  }
  if (!uuidTime) {
    const time = uuidMs.toString(16).padStart(12, '0');
    uuidTime = `${time.slice(0, 8)}-${time.slice(8)}-7`;
  }
  // 62 random bits after the variant: taken from a pool of random hex refilled 8 KB at a time.
  if (randomAt + 16 > randomHex.length) {
    randomHex = randomBytes(8192).toString('hex');
    randomAt = 0;
  }
  const random = randomHex.slice(randomAt, randomAt + 16);
  randomAt += 16;
  const variant = '89ab'[parseInt(random[0]!, 16) & 3];
  return `${uuidTime}${uuidSeq.toString(16).padStart(3, '0')}-${variant}${random.slice(1, 4)}-${random.slice(4)}`;
}
