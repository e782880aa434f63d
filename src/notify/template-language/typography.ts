// Notify's "nice typography" for email subjects and bodies: no space before `,`/`.`, curly quotes
// (SmartyPants' quote rules, quotes only: no dashes from `--`, no ellipses), straight apostrophes kept in
// email addresses, and a hyphen between spaces becomes an en dash.

import { removeWhitespaceBeforePunctuation } from './whitespace.ts';

const LEFT_SINGLE = '\u2018';
const RIGHT_SINGLE = '\u2019';
const LEFT_DOUBLE = '\u201c';
const RIGHT_DOUBLE = '\u201d';

/** A "word" character in the Unicode sense that Python's `\w` uses. */
const WORD = '[\\p{L}\\p{N}_]';
/** ASCII punctuation. */
const PUNCT = '[!"#$%&\'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~]';
/** What may come right before a quote that opens: whitespace or a dash (written or as an entity). */
const OPENING_CONTEXT = '(\\s|&nbsp;|--|&[mn]dash;|&#821[12];|&#x201[34];|[\\u2013\\u2014])';
/** Anything except what typically precedes an opening quote. */
const CLOSING_CONTEXT = '([^ \\t\\r\\n\\[{(\\-])';

const QUOTE_RULES: Array<[RegExp, string]> = [
  // A quote that starts the text and is followed by punctuation closes something: `'.` or `",`.
  [new RegExp(`^'(?=${PUNCT}(?!${WORD}))`, 'u'), RIGHT_SINGLE],
  [new RegExp(`^"(?=${PUNCT}(?!${WORD}))`, 'u'), RIGHT_DOUBLE],
  // Nested quotes opening together: "'Quoted' words".
  [new RegExp(`"'(?=${WORD})`, 'gu'), LEFT_DOUBLE + LEFT_SINGLE],
  [new RegExp(`'"(?=${WORD})`, 'gu'), LEFT_SINGLE + LEFT_DOUBLE],
  // Decade abbreviations straight after a word character.
  [new RegExp(`(?<=${WORD})'(?=\\p{Nd}{2}s)`, 'gu'), RIGHT_SINGLE],
  [new RegExp(`${OPENING_CONTEXT}'(?=${WORD})`, 'gu'), `$1${LEFT_SINGLE}`],
  [new RegExp(`${CLOSING_CONTEXT}'(?!\\s|s(?!${WORD})|\\p{Nd})`, 'gu'), `$1${RIGHT_SINGLE}`],
  [new RegExp(`${CLOSING_CONTEXT}'(\\s|s(?!${WORD}))`, 'gu'), `$1${RIGHT_SINGLE}$2`],
  [/'/g, LEFT_SINGLE],
  [new RegExp(`${OPENING_CONTEXT}"(?=${WORD})`, 'gu'), `$1${LEFT_DOUBLE}`],
  [/"(?=\s)/gu, RIGHT_DOUBLE],
  [new RegExp(`${CLOSING_CONTEXT}"`, 'gu'), `$1${RIGHT_DOUBLE}`],
  [/"/g, LEFT_DOUBLE],
];

const NOT_WHITESPACE = /\S/u;

/**
 * Curly quotes for one run of text. `previousCharacter` is the last character of the text run before this
 * one (for HTML, text separated by tags): it decides a run that is a lone quote mark.
 */
export function smartQuotes(text: string, previousCharacter = ''): string {
  if (text === "'") return NOT_WHITESPACE.test(previousCharacter) ? RIGHT_SINGLE : LEFT_SINGLE;
  if (text === '"') return NOT_WHITESPACE.test(previousCharacter) ? RIGHT_DOUBLE : LEFT_DOUBLE;
  if (!text.includes("'") && !text.includes('"')) return text;
  let result = text;
  for (const [pattern, replacement] of QUOTE_RULES) result = result.replace(pattern, replacement);
  return result;
}

/** Anything with an `@` between whitespace: a curly apostrophe there would break the address. */
const EMAIL_LIKE = /(?<=^|\s)\S+@\S+(?=\s|$)/gmu;

export function removeSmartQuotesFromEmailAddresses(text: string): string {
  if (!text.includes('@')) return text;
  return text.replace(EMAIL_LIKE, (address) => address.replace(/[\u2018\u2019]/g, "'"));
}

const SPACED_HYPHENS = /\s+[-\u2013\u2014]{1,3}\s+/gu;

/** `this - that` → `this – that`. */
export function replaceHyphensWithEnDashes(text: string): string {
  if (!/[-\u2013\u2014]/.test(text)) return text;
  return text.replace(SPACED_HYPHENS, ' \u2013 ');
}

/**
 * Typography for one run of text. Link text keeps its straight quotes (`inLink`), as SmartyPants skips `<a>`.
 */
export function niceTypography(text: string, previousCharacter = '', inLink = false): string {
  let result = removeWhitespaceBeforePunctuation(text);
  if (!inLink) result = smartQuotes(result, previousCharacter);
  result = removeSmartQuotesFromEmailAddresses(result);
  return replaceHyphensWithEnDashes(result);
}
