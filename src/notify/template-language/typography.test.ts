import { describe, expect, it } from 'vitest';

import { niceTypography, replaceHyphensWithEnDashes, smartQuotes } from './typography.ts';
import { normaliseWhitespace, splitLines, stripWhitespace } from './whitespace.ts';

describe('smartQuotes', () => {
  it.each([
    [`"Hello"`, '“Hello”'],
    [`'Hello'`, '‘Hello’'],
    [`don't`, 'don’t'],
    [`the dogs' bowls`, 'the dogs’ bowls'],
    [`it's`, 'it’s'],
    [`He said "'hi' there"`, 'He said “‘hi’ there”'],
    [`'"Nested" start`, '‘“Nested” start'],
    [`"Hello," she said`, '“Hello,” she said'],
    [`'.' is a dot`, '’.’ is a dot'],
    [`in the 1980's`, 'in the 1980’s'],
    [`(“already” curly)`, '(“already” curly)'],
    [`(“mixed" quotes)`, '(“mixed” quotes)'],
    [`a -- 'dash'`, 'a -- ‘dash’'],
    [`l'été`, 'l’été'],
  ])('%s → %s', (input, output) => {
    expect(smartQuotes(input)).toBe(output);
  });

  it('decides a lone quote from the character before it', () => {
    expect(smartQuotes("'", 'a')).toBe('’');
    expect(smartQuotes("'", ' ')).toBe('‘');
    expect(smartQuotes("'")).toBe('‘');
    expect(smartQuotes('"', '.')).toBe('”');
    expect(smartQuotes('"', '')).toBe('“');
  });
});

describe('niceTypography', () => {
  it('leaves link text quotes alone but still fixes dashes and spacing', () => {
    expect(niceTypography(`"a" - b .`, '', true)).toBe('"a" – b.');
  });

  it('restores straight apostrophes in every email address of the text', () => {
    expect(niceTypography(`o'a@x.org and d'b@y.org 'z'`)).toBe(`o'a@x.org and d'b@y.org ‘z’`);
  });
});

describe('replaceHyphensWithEnDashes', () => {
  it('replaces up to three hyphens or dashes surrounded by whitespace', () => {
    expect(replaceHyphensWithEnDashes('a - b\t--\tc  —  d')).toBe('a – b – c – d');
    expect(replaceHyphensWithEnDashes('a ---- b')).toBe('a ---- b');
    expect(replaceHyphensWithEnDashes('-a - b-')).toBe('-a – b-');
  });
});

describe('whitespace helpers (Python semantics)', () => {
  it('splitLines does not add an empty line for a trailing break', () => {
    expect(splitLines('a\nb\n')).toEqual(['a', 'b']);
    expect(splitLines('a\n\nb')).toEqual(['a', '', 'b']);
    expect(splitLines('')).toEqual([]);
    expect(splitLines('a\r\nb\x85c')).toEqual(['a', 'b', 'c']);
  });

  it('stripWhitespace trims Unicode spaces but not zero-width characters', () => {
    expect(stripWhitespace('\u3000\u2003 a b \u00a0\n')).toBe('a b');
    expect(stripWhitespace('\u200ba\u200b')).toBe('\u200ba\u200b');
  });

  it('normaliseWhitespace turns no-break spaces into spaces and removes zero-width characters', () => {
    expect(normaliseWhitespace('a\u00a0\u00a0b\u200bc\u2003 d')).toBe('a bc d');
  });
});
