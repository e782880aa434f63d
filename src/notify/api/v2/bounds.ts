/**
 * How much work one v2 request may ask for, refused before the work starts: the body's size, how deep its JSON
 * nests, how large its personalisation is, and how large a preview may come out. Without them one request (even
 * with a test key) held the event loop for seconds: parsing, validating and rendering all run on it.
 */
import { ApiError, badRequest } from './errors.ts';

/**
 * Every v2 route but the bulk one (bulk.ts has its own, by rows): a send or a preview holds at most GC Notify's
 * 50 KB of personalisation, which JSON's escapes can make six times larger, and a few short fields.
 */
export const V2_BODY_LIMIT = 1024 * 1024;

/** Notify's requests nest three levels (`personalisation` → a list → its items); past this it is not a request. */
export const MAX_JSON_DEPTH = 32;

/** GC Notify's PERSONALISATION_SIZE_LIMIT: the characters of every value that is not a file, together. */
export const PERSONALISATION_SIZE_LIMIT = 51_200;

/** Far more placeholders than any template has; the keys are not in GC's size (a key with no value is free there). */
export const PERSONALISATION_KEY_LIMIT = 1_000;

/**
 * A preview's body, placeholders filled in, before it is rendered as HTML (markdown costs about a millisecond per
 * kilobyte): twice the personalisation a send may carry, room for the template's own text.
 */
export const PREVIEW_SIZE_LIMIT = 2 * PERSONALISATION_SIZE_LIMIT;

/**
 * Every key of every object in a body, a few more than a send's fields and its largest personalisation: parsing an
 * object of 70,000 keys takes V8 a few hundred milliseconds, so they are counted before it parses.
 */
export const MAX_JSON_KEYS = PERSONALISATION_KEY_LIMIT + 100;

/**
 * Refuses JSON text that nests arrays and objects deeper than MAX_JSON_DEPTH or holds more than MAX_JSON_KEYS keys:
 * a linear scan counting brackets and colons outside strings, cheap enough to run before JSON.parse and before
 * anything recursive sees the value. Text that is not JSON passes, for JSON.parse to refuse.
 */
export function checkJsonShape(text: string): void {
  let depth = 0;
  let keys = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_JSON_DEPTH) throw badJson(`nested deeper than ${MAX_JSON_DEPTH} levels`);
    } else if (c === 0x5d || c === 0x7d) depth--;
    else if (c === 0x3a && ++keys > MAX_JSON_KEYS) throw badJson(`more than ${MAX_JSON_KEYS} keys`);
  }
}

const badJson = (problem: string) => badRequest(`Invalid JSON supplied in POST data: ${problem}`);

/** Refuses personalisation over GC Notify's size limit (in GC's words) or with more keys than any template uses. */
export function checkPersonalisationSize(personalisation: Record<string, unknown> | undefined): void {
  if (!personalisation) return;
  let keys = 0;
  let size = 0;
  for (const key in personalisation) {
    if (++keys > PERSONALISATION_KEY_LIMIT) {
      throw validationError(`Personalisation has more than the allowed limit of ${PERSONALISATION_KEY_LIMIT} keys.`);
    }
    const value = personalisation[key];
    // As GC: files (objects) are not counted, every other value as Python's str() would write it.
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) continue;
    size += typeof value === 'string' ? value.length : JSON.stringify(value ?? null).length;
  }
  if (size > PERSONALISATION_SIZE_LIMIT) {
    throw validationError(
      `Personalisation variables size of ${size} bytes is greater than allowed limit of ${PERSONALISATION_SIZE_LIMIT} bytes.`,
    );
  }
}

/** Refuses a preview whose filled-in body is too long to render for people to look at. */
export function checkPreviewSize(body: string): void {
  if (body.length > PREVIEW_SIZE_LIMIT) {
    throw badRequest(
      `Preview is too long: the message is ${body.length} characters and a preview shows at most ${PREVIEW_SIZE_LIMIT}`,
    );
  }
}

const validationError = (message: string) => new ApiError(400, 'ValidationError', message);
