// Placeholders: `((name))` and conditional `((name??text shown when the value is truthy))`.
// Names match personalisation keys ignoring case, spaces, `_` and `-`, as Notify's InsensitiveDict does.

import { stripAndRemoveObscureWhitespace } from './whitespace.ts';

export type Personalisation = Record<string, unknown>;

export interface FillOptions {
  /** HTML-escape substituted values (never the template's own text). */
  escapeHtml?: boolean;
  /**
   * How a list value is written: `markdown` as a bulleted list (`\n\n* a\n* b`), as in email bodies;
   * `none` as prose (`a, b and c`), as in text messages and subjects.
   */
  listStyle?: 'markdown' | 'none';
}

/** `\({2}([^()]+)\){2}`; a fresh global copy is made for each use so `lastIndex` is never shared. */
const PLACEHOLDER_SOURCE = '\\({2}([^()]+)\\){2}';

function placeholderPattern(): RegExp {
  return new RegExp(PLACEHOLDER_SOURCE, 'g');
}

interface ParsedPlaceholder {
  name: string;
  /** The text after the first `??`, or null for a plain placeholder. */
  conditionalText: string | null;
}

function parsePlaceholder(body: string): ParsedPlaceholder | null {
  const separator = body.indexOf('??');
  const name = (separator === -1 ? body : body.slice(0, separator)).trim();
  // `((  ))` names nothing: leave it as literal text rather than demand a blank key.
  if (name === '') return null;
  return { name, conditionalText: separator === -1 ? null : body.slice(separator + 2) };
}

/** Lowercases and drops spaces, `_` and `-`, so `First_Name`, `first name` and `FIRST-NAME` are one key. */
export function normaliseKey(key: string): string {
  return key.replace(/[ _-]/g, '').toLowerCase();
}

// A bulk job fills the same template, with the same keys, for every row: parsing the template and normalising
// the keys once each, instead of once a row, is a large part of rendering a million rows. Small bounded memos.
const MEMO_LIMIT = 1_000;
const normalisedKeys = new Map<string, string>();
/** A placeholder as written (`name`), its lookup key, and its conditional text (null for a plain one). */
type TemplatePart = string | { whole: string; name: string; key: string; conditionalText: string | null };
const parsedTemplates = new Map<string, TemplatePart[]>();

function memo<T>(cache: Map<string, T>, key: string, make: (key: string) => T): T {
  let value = cache.get(key);
  if (value === undefined) {
    if (cache.size >= MEMO_LIMIT) cache.clear();
    value = make(key);
    cache.set(key, value);
  }
  return value;
}

/** The text split into literal runs and placeholders, as the placeholder pattern finds them. */
function templateParts(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const match of text.matchAll(placeholderPattern())) {
    const placeholder = parsePlaceholder(match[1]!);
    if (!placeholder) continue; // stays literal text
    if (match.index > last) parts.push(text.slice(last, match.index));
    parts.push({
      whole: match[0],
      name: placeholder.name,
      key: normaliseKey(placeholder.name),
      conditionalText: placeholder.conditionalText,
    });
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

/** Unique placeholder names across the texts, in order of first appearance, spelt as first written. */
export function placeholderNames(...texts: string[]): string[] {
  return uniquePlaceholders(texts).map((p) => p.name);
}

function uniquePlaceholders(texts: string[]): Array<{ name: string; key: string }> {
  const seen = new Set<string>();
  const placeholders: Array<{ name: string; key: string }> = [];
  for (const text of texts) {
    if (!text) continue;
    for (const part of memo(parsedTemplates, text, templateParts)) {
      if (typeof part === 'string' || seen.has(part.key)) continue;
      seen.add(part.key);
      placeholders.push(part);
    }
  }
  return placeholders;
}

/** Later keys win when two keys normalise to the same thing, as in Notify. */
function buildLookup(personalisation: Personalisation | null | undefined): Map<string, unknown> {
  const lookup = new Map<string, unknown>();
  if (!personalisation) return lookup;
  for (const [key, value] of Object.entries(personalisation))
    lookup.set(memo(normalisedKeys, key, normaliseKey), value);
  return lookup;
}

/**
 * Placeholder names (conditional ones included: Notify requires them too) whose value is absent or null,
 * in template order. An empty result means the message can be sent.
 */
export function missingPersonalisation(texts: string[], personalisation: Personalisation | null | undefined): string[] {
  const lookup = buildLookup(personalisation);
  return uniquePlaceholders(texts).flatMap((p) => (lookup.get(p.key) == null ? [p.name] : []));
}

/** Notify's str2bool: what makes a conditional placeholder show its text. */
export function str2bool(value: string): boolean {
  if (!value) return false;
  return ['yes', 'y', 'true', 't', '1', 'include', 'show'].includes(value.toLowerCase());
}

const ENTITY_OR_AMPERSAND = /&(#[0-9]+;|#[xX][0-9a-fA-F]+;|[A-Za-z][A-Za-z0-9]{0,31};)?/g;

/**
 * Escapes `& < > " '`. A complete character reference (`&amp;`, `&#39;`) is kept as it is, so a value that
 * was already escaped is not escaped twice (Notify unescapes and re-escapes, to the same effect).
 */
export function escapeKeepingEntities(value: string): string {
  return value
    .replace(ENTITY_OR_AMPERSAND, (whole, reference: string | undefined) => (reference ? whole : '&amp;'))
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A scalar as Notify (Python's str()) writes it: booleans are `True`/`False`. */
function scalarToString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

/** `a`, `a and b`, `a, b and c`. */
function proseList(items: string[]): string {
  if (items.length === 1) return items[0]!;
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** The text that replaces a placeholder, or null when there is no value (the placeholder then stays). */
function replacementFor(value: unknown, options: FillOptions): string | null {
  if (value == null) return null;
  const escapeText = options.escapeHtml ? escapeKeepingEntities : (text: string) => text;
  if (Array.isArray(value)) {
    const items = value
      .filter((item) => item != null)
      .map((item) => stripAndRemoveObscureWhitespace(scalarToString(item)))
      .filter((item) => item !== '');
    if (items.length === 0) return '';
    const list =
      options.listStyle === 'markdown' ? `\n\n${items.map((item) => `* ${item}`).join('\n')}` : proseList(items);
    return escapeText(list);
  }
  return escapeText(scalarToString(value));
}

/**
 * Substitutes placeholders. A placeholder without a value is left exactly as written, so callers that must
 * refuse incomplete messages check `missingPersonalisation` first.
 */
export function fillPlaceholders(
  text: string,
  personalisation: Personalisation | null | undefined,
  options: FillOptions = {},
): string {
  const parts = memo(parsedTemplates, text, templateParts);
  const lookup = buildLookup(personalisation);
  let out = '';
  for (const part of parts) {
    if (typeof part === 'string') {
      out += part;
      continue;
    }
    const replacement = replacementFor(lookup.get(part.key), options);
    if (replacement === null) out += part.whole;
    else if (part.conditionalText !== null) out += str2bool(replacement) ? part.conditionalText : '';
    else out += replacement;
  }
  return out;
}
