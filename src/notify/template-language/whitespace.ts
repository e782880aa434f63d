// Whitespace handling with the semantics Notify's Python code relies on (str.split(), str.strip(),
// str.splitlines()), so that bodies rendered here match the strings the official clients' tests assert.

/** Characters for which Python's str.isspace() is true: what split() and strip() treat as whitespace. */
const PY_WHITESPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

const PY_WHITESPACE_RUN = new RegExp(`[${PY_WHITESPACE}]+`, 'g');
const PY_WHITESPACE_EDGES = new RegExp(`^[${PY_WHITESPACE}]+|[${PY_WHITESPACE}]+$`, 'g');

/** Line boundaries recognised by Python's str.splitlines(). */
const PY_LINE_BREAK = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;

/** Zero-width characters that people paste in by accident; they are removed, not turned into spaces. */
export const OBSCURE_ZERO_WIDTH_WHITESPACE = '\u180e\u200b\u200c\u200d\u2060\ufeff';
const OBSCURE_ZERO_WIDTH = new RegExp(`[${OBSCURE_ZERO_WIDTH_WHITESPACE}]`, 'g');
const NON_BREAKING_SPACE = /\u00a0/g;

/** ASCII whitespace only, like Python's string.whitespace. */
const ASCII_WHITESPACE_EDGES = /^[ \t\n\r\v\f]+|[ \t\n\r\v\f]+$/g;

/** Python's str.strip() with no argument. */
export function stripWhitespace(value: string): string {
  return value.replace(PY_WHITESPACE_EDGES, '');
}

/** Python's str.splitlines(): a trailing line break does not produce an empty last line. */
export function splitLines(value: string): string[] {
  if (value === '') return [];
  const lines = value.split(PY_LINE_BREAK);
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Collapses every run of whitespace to one space, drops zero-width characters and trims. */
export function normaliseWhitespace(value: string): string {
  return stripWhitespace(value.replace(OBSCURE_ZERO_WIDTH, '')).replace(PY_WHITESPACE_RUN, ' ');
}

/** Normalises whitespace line by line; every kind of line break becomes `\n`. */
export function normaliseWhitespaceAndNewlines(value: string): string {
  return splitLines(value).map(normaliseWhitespace).join('\n');
}

/** Three or more consecutive newlines become two (one blank line). */
export function normaliseMultipleNewlines(value: string): string {
  return value.replace(/\n{3,}/g, '\n\n');
}

/** `Hello , world .` → `Hello, world.`: spaces or tabs before a comma or full stop are dropped. */
export function removeWhitespaceBeforePunctuation(value: string): string {
  return value.replace(/[ \t]+([,.])/g, '$1');
}

/** Removes zero-width and non-breaking spaces anywhere, then trims ASCII whitespace (used for list items). */
export function stripAndRemoveObscureWhitespace(value: string): string {
  if (value === '') return '';
  return value.replace(OBSCURE_ZERO_WIDTH, '').replace(NON_BREAKING_SPACE, '').replace(ASCII_WHITESPACE_EDGES, '');
}
