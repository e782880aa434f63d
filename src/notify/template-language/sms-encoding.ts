// Text message character sets, downgrading and fragment counting.
//
// A message is sent as GSM-7 when every character is in the GSM 03.38 alphabet (or its extension table);
// otherwise as UCS-2 ("unicode"), with fewer characters per fragment. Characters outside GSM are
// downgraded to a GSM look-alike where there is one (é → e, “ → "), except letters that Welsh, French and
// Canadian Indigenous languages need: those are kept, and make the message unicode.

/** GSM 03.38 basic alphabet. */
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';

/** GSM extension table: each of these is sent as two septets. */
export const GSM_EXTENDED_CHARACTERS = '^{}\\[~]|€';

const GSM_CHARACTERS = new Set([...GSM_BASIC, ...GSM_EXTENDED_CHARACTERS]);
const GSM_EXTENDED = new Set([...GSM_EXTENDED_CHARACTERS]);

/** Welsh letters with grave, acute, diaeresis and circumflex, including ŵ and ŷ (GOV.UK Notify keeps these). */
const WELSH_LETTERS = 'àèìòùẁỳÀÈÌÒÙẀỲáéíóúẃýÁÉÍÓÚẂÝäëïöüẅÿÄËÏÖÜẄŸâêîôûŵŷÂÊÎÔÛŴŶ';
/** French letters outside GSM (GC Notify keeps these). */
const FRENCH_LETTERS = 'ÀÂËÎÏÔŒÙÛâçêëîïôœû';

const KEPT_LETTERS = new Set([...WELSH_LETTERS, ...FRENCH_LETTERS]);

/**
 * Unified Canadian Aboriginal Syllabics (and its extended blocks), used to write Inuktitut, Cree and Ojibwe.
 * GC Notify keeps a list of these syllabics; Envoi keeps the whole blocks.
 */
function isCanadianSyllabic(codePoint: number): boolean {
  return (
    (codePoint >= 0x1400 && codePoint <= 0x167f) ||
    (codePoint >= 0x18b0 && codePoint <= 0x18ff) ||
    (codePoint >= 0x11ab0 && codePoint <= 0x11abf)
  );
}

function isAllowed(character: string): boolean {
  return GSM_CHARACTERS.has(character) || KEPT_LETTERS.has(character) || isCanadianSyllabic(character.codePointAt(0)!);
}

/** Downgrades for characters with no canonical decomposition. */
const REPLACEMENTS = new Map<string, string>([
  ['\u2013', '-'], // en dash
  ['\u2014', '-'], // em dash
  ['\u2026', '...'], // horizontal ellipsis
  ['\u2018', "'"],
  ['\u2019', "'"],
  ['\u201c', '"'],
  ['\u201d', '"'],
  ['\u180e', ''], // Mongolian vowel separator
  ['\u200b', ''], // zero width space
  ['\u200c', ''], // zero width non-joiner
  ['\u200d', ''], // zero width joiner
  ['\u2060', ''], // word joiner
  ['\ufeff', ''], // zero width no-break space
  ['\u2028', ''], // line separator
  ['\u2029', ''], // paragraph separator
  ['\u00a0', ' '], // no-break space
  ['\u202f', ' '], // narrow no-break space
  ['\t', ' '],
  ['Ł', 'L'],
  ['ł', 'l'],
]);

function isHangulSyllable(codePoint: number): boolean {
  return codePoint >= 0xac00 && codePoint <= 0xd7a3;
}

/**
 * One step of canonical decomposition, keeping the base: é → e, ǖ → ü, Å (angstrom sign) → Å.
 * Undefined when the character does not decompose. Hangul syllables are left alone, as Notify does
 * (Python's unicodedata.decomposition() gives nothing for them).
 */
function decomposeOnce(character: string): string | undefined {
  if (isHangulSyllable(character.codePointAt(0)!)) return undefined;
  const decomposed = character.normalize('NFD');
  if (decomposed === character) return undefined;
  const composed = character.normalize('NFC');
  // A singleton decomposition (one character for another): take the canonical equivalent.
  if (composed !== character) return [...composed][0];
  const codePoints = [...decomposed];
  return codePoints.slice(0, -1).join('').normalize('NFC');
}

/** The GSM-compatible form of one character (possibly empty or several characters), or `?`. */
function encodeCharacter(character: string): string {
  let current = character;
  // Decompose step by step until something allowed is left (ệ → ẹ → e).
  for (;;) {
    if (isAllowed(current)) return current;
    const replacement = REPLACEMENTS.get(current);
    if (replacement !== undefined) return replacement;
    const base = decomposeOnce(current);
    if (base === undefined || base === current) return '?';
    current = base;
  }
}

/** Replaces characters a phone can't show with their GSM look-alike, or `?` when there is none. */
export function encodeForSms(text: string): string {
  let result = '';
  for (const character of text) result += encodeCharacter(character);
  return result;
}

export type SmsEncoding = 'gsm' | 'unicode';

export function smsEncoding(text: string): SmsEncoding {
  for (const character of text) if (!GSM_CHARACTERS.has(character)) return 'unicode';
  return 'gsm';
}

/**
 * Number of parts the message is sent in. GSM-7: 160 septets in one part, 153 per part when split, with
 * extension-table characters taking two. Unicode: 70 UTF-16 code units in one part, 67 per part when split.
 */
export function smsFragmentCount(text: string): number {
  if (text === '') return 0;
  if (smsEncoding(text) === 'unicode') {
    const units = text.length;
    return units <= 70 ? 1 : Math.ceil(units / 67);
  }
  let septets = 0;
  for (const character of text) septets += GSM_EXTENDED.has(character) ? 2 : 1;
  return septets <= 160 ? 1 : Math.ceil(septets / 153);
}
