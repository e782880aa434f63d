// `sanitise_content_for` (POST /v2/notifications/email): personalisation values named by the caller are
// made inert before they reach the email's markdown. URLs are removed (or, when they look like an
// accidental link such as `example.com`, broken up with a space) and markdown characters are escaped.

import { normaliseKey, type Personalisation } from './personalisation.ts';

export interface SanitisedValue {
  unsanitised: string;
  sanitised: string;
}

export interface SanitiseResult {
  personalisation: Personalisation;
  /** Keyed by the personalisation key as sent; only values that changed appear. */
  report: Record<string, SanitisedValue>;
}

/** A word character as Python's Unicode `\w`. */
const W = '[\\p{L}\\p{N}_]';
/** `\b`: between a word character and a non-word character (or the text's edge). */
const WORD_BOUNDARY = `(?:(?<=${W})(?!${W})|(?<!${W})(?=${W}))`;

/**
 * Notify's URL pattern (formatters.url): optional scheme, dotted host with a 2–63 letter TLD, optional path.
 * One addition: where the match starts at the host, the run of host characters from there must be at most
 * 253 long (the longest DNS name). Without it, every word start in a long `a-a-a-…` run rescans the whole
 * run looking for a dot, and a 100 kB value takes seconds.
 */
const URL_PATTERN = new RegExp(
  `${WORD_BOUNDARY}(?<![@.])` + // not the domain of an email address, not mid-host
    `(?=https?:\\/\\/|(?:${W}|[.-]){1,253}(?!${W}|[.-]))` +
    '(https?:\\/\\/)?' +
    `((?:${W}|-)+\\.)+` +
    '([a-z]{2,63})' +
    `(?!@)${WORD_BOUNDARY}` + // not the local part of an email address
    '([/?#][^<\\s]*)?',
  'giu',
);

const ACCIDENTAL_LINK = /^[a-zA-Z0-9.-]+$/;
const MARKDOWN_CHARACTERS = /[`*_()\\{}[\]<>#+\-.!|]/g;

/** Plain assignment would treat a `__proto__` key from JSON as the object's prototype. */
function setOwn<T>(target: Record<string, T>, key: string, value: NoInfer<T>): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export function sanitiseText(value: string): string {
  const withoutLinks = value.replace(URL_PATTERN, (link) =>
    ACCIDENTAL_LINK.test(link) ? link.replace(/\./g, '. ') : '',
  );
  return withoutLinks.replace(MARKDOWN_CHARACTERS, '\\$&');
}

/**
 * Sanitises the values whose keys are in `keys` (matched ignoring case, spaces, `_` and `-`). Strings are
 * sanitised, and so are the strings inside a list (the report then shows the lists as JSON); other values
 * (numbers, booleans, null, files) are left alone.
 */
export function sanitisePersonalisation(
  personalisation: Personalisation | null | undefined,
  keys: string[] | null | undefined,
): SanitiseResult {
  const source = personalisation ?? {};
  // Nothing to sanitise: the values are only read from here on, so no copy is made.
  if (!keys || keys.length === 0) return { personalisation: source, report: {} };

  const wanted = new Set(keys.map(normaliseKey));
  const result: Personalisation = {};
  const report: Record<string, SanitisedValue> = {};
  for (const [key, value] of Object.entries(source)) {
    if (!wanted.has(normaliseKey(key))) {
      setOwn(result, key, value);
    } else if (typeof value === 'string') {
      const sanitised = sanitiseText(value);
      setOwn(result, key, sanitised);
      if (sanitised !== value) setOwn(report, key, { unsanitised: value, sanitised });
    } else if (Array.isArray(value)) {
      const sanitised = value.map((item: unknown) => (typeof item === 'string' ? sanitiseText(item) : item));
      setOwn(result, key, sanitised);
      const before = JSON.stringify(value);
      const after = JSON.stringify(sanitised);
      if (before !== after) setOwn(report, key, { unsanitised: before, sanitised: after });
    } else {
      setOwn(result, key, value);
    }
  }
  return { personalisation: result, report };
}
