import { describe, expect, it } from 'vitest';

import {
  escapeKeepingEntities,
  fillPlaceholders,
  missingPersonalisation,
  normaliseKey,
  placeholderNames,
  str2bool,
} from './personalisation.ts';

describe('normaliseKey', () => {
  it('ignores case, spaces, underscores and hyphens', () => {
    expect(normaliseKey('First_Name')).toBe('firstname');
    expect(normaliseKey('first name')).toBe('firstname');
    expect(normaliseKey('FIRST-NAME')).toBe('firstname');
    expect(normaliseKey(' first - _ name ')).toBe('firstname');
  });

  it('keeps other punctuation and digits', () => {
    expect(normaliseKey('Line.1')).toBe('line.1');
    expect(normaliseKey('a/b')).not.toBe(normaliseKey('ab'));
  });
});

describe('placeholderNames', () => {
  it('lists placeholders in order of first appearance', () => {
    expect(placeholderNames('Dear ((name)), your ((reference)) is due on ((date))')).toEqual([
      'name',
      'reference',
      'date',
    ]);
  });

  it('treats spellings of the same key as one placeholder, keeping the first spelling', () => {
    expect(placeholderNames('((First Name)) ((first_name)) ((FIRSTNAME)) ((first-name))')).toEqual(['First Name']);
  });

  it('collects across several texts (subject then body), without repeats', () => {
    expect(placeholderNames('About ((reference))', 'Hi ((name)), about ((Reference))')).toEqual(['reference', 'name']);
  });

  it('names a conditional placeholder by the part before ??, trimmed', () => {
    expect(placeholderNames('((has_car ?? Bring your licence.)) ((name))')).toEqual(['has_car', 'name']);
  });

  it('matches the innermost pair of double brackets only', () => {
    expect(placeholderNames('(((name))) and ((not (nested))) and (single)')).toEqual(['name']);
  });

  it('ignores blank placeholders', () => {
    expect(placeholderNames('(( )) and ((??text))')).toEqual([]);
  });

  it('returns nothing for text without placeholders', () => {
    expect(placeholderNames('Plain text', '')).toEqual([]);
  });
});

describe('missingPersonalisation', () => {
  const texts = ['Subject for ((reference))', 'Hello ((Name)), ((has_car??Bring your licence.)) ((date))'];

  it('lists every placeholder without a value, in template order', () => {
    expect(missingPersonalisation(texts, {})).toEqual(['reference', 'Name', 'has_car', 'date']);
  });

  it('counts a conditional placeholder as required, as Notify does', () => {
    expect(missingPersonalisation(texts, { reference: 'R1', name: 'A', date: 'today' })).toEqual(['has_car']);
  });

  it('matches keys ignoring case, spaces, underscores and hyphens', () => {
    expect(missingPersonalisation(texts, { REFERENCE: 'R1', ' n-a_m e ': 'A', 'Has Car': 'no', DATE: 'x' })).toEqual(
      [],
    );
  });

  it('treats null and undefined as missing, but not empty strings, zero or false', () => {
    expect(
      missingPersonalisation(['((a)) ((b)) ((c)) ((d)) ((e))'], { a: null, b: undefined, c: '', d: 0, e: false }),
    ).toEqual(['a', 'b']);
  });

  it('accepts a null personalisation', () => {
    expect(missingPersonalisation(['((a))'], null)).toEqual(['a']);
  });

  it('is not fooled by keys inherited from Object.prototype', () => {
    expect(missingPersonalisation(['((constructor)) ((toString))'], {})).toEqual(['constructor', 'toString']);
  });
});

describe('str2bool', () => {
  it.each(['yes', 'Y', 'TRUE', 't', '1', 'include', 'Show'])('is true for %s', (value) => {
    expect(str2bool(value)).toBe(true);
  });

  it.each(['', 'no', 'false', '0', 'on', 'yes please', ' yes'])('is false for %j', (value) => {
    expect(str2bool(value)).toBe(false);
  });
});

describe('fillPlaceholders', () => {
  it('substitutes values matched insensitively', () => {
    expect(fillPlaceholders('Hello ((First Name)) ((last_name))', { first_name: 'Ada', 'LAST-NAME': 'Lovelace' })).toBe(
      'Hello Ada Lovelace',
    );
  });

  it('lets the later of two equivalent keys win', () => {
    expect(fillPlaceholders('((name))', { name: 'first', NAME: 'second' })).toBe('second');
  });

  it('leaves a placeholder without a value exactly as written', () => {
    expect(fillPlaceholders('Hi (( name )), ((x??shown))', { name: null })).toBe('Hi (( name )), ((x??shown))');
  });

  it('does not substitute placeholders that appear inside values', () => {
    expect(fillPlaceholders('((a)) ((b))', { a: '((b))', b: 'B' })).toBe('((b)) B');
  });

  it('does not interpret $ sequences in values', () => {
    expect(fillPlaceholders('Cost: ((cost))', { cost: "$& $1 $$ $'" })).toBe("Cost: $& $1 $$ $'");
  });

  it('writes numbers and booleans as Notify does', () => {
    expect(
      fillPlaceholders('((n)) ((f)) ((zero)) ((yes)) ((no))', { n: 42, f: 2.5, zero: 0, yes: true, no: false }),
    ).toBe('42 2.5 0 True False');
  });

  it('writes an empty string as nothing', () => {
    expect(fillPlaceholders('[((a))]', { a: '' })).toBe('[]');
  });

  describe('conditional placeholders', () => {
    it.each([
      ['yes', 'Bring your licence.'],
      ['Y', 'Bring your licence.'],
      ['true', 'Bring your licence.'],
      ['1', 'Bring your licence.'],
      ['show', 'Bring your licence.'],
      ['no', ''],
      ['', ''],
      ['maybe', ''],
    ])('with %j shows %j', (value, expected) => {
      expect(fillPlaceholders('((has car??Bring your licence.))', { HasCar: value })).toBe(expected);
    });

    it('understands boolean and number values', () => {
      expect(fillPlaceholders('((a??A))((b??B))((c??C))((d??D))', { a: true, b: false, c: 1, d: 0 })).toBe('AC');
    });

    it('keeps everything after the first ?? as the text', () => {
      expect(fillPlaceholders('((q??Really?? Yes.))', { q: 'yes' })).toBe('Really?? Yes.');
    });

    it('judges a list value by its written form', () => {
      expect(fillPlaceholders('((q??shown))', { q: ['yes'] })).toBe('shown');
      expect(fillPlaceholders('((q??shown))', { q: ['yes'] }, { listStyle: 'markdown' })).toBe('');
      expect(fillPlaceholders('((q??shown))', { q: [] })).toBe('');
    });
  });

  describe('list values', () => {
    it('are written as a markdown bulleted list for email bodies', () => {
      expect(
        fillPlaceholders('You need:((items))', { items: ['a passport', 'a photo'] }, { listStyle: 'markdown' }),
      ).toBe('You need:\n\n* a passport\n* a photo');
    });

    it('are written as prose otherwise', () => {
      expect(fillPlaceholders('((x))', { x: ['a'] })).toBe('a');
      expect(fillPlaceholders('((x))', { x: ['a', 'b'] })).toBe('a and b');
      expect(fillPlaceholders('((x))', { x: ['a', 'b', 'c'] }, { listStyle: 'none' })).toBe('a, b and c');
    });

    it('drop null and blank items and trim the rest', () => {
      expect(
        fillPlaceholders('((x))', { x: [' a ', null, '', '\u200b', 'b\u00a0', 3] }, { listStyle: 'markdown' }),
      ).toBe('\n\n* a\n* b\n* 3');
    });

    it('render as nothing when empty', () => {
      expect(fillPlaceholders('[((x))]', { x: [] })).toBe('[]');
      expect(fillPlaceholders('[((x))]', { x: [null, ' '] })).toBe('[]');
    });
  });

  describe('escapeHtml option', () => {
    it('escapes values but not the template text', () => {
      expect(fillPlaceholders('<b>((name))</b>', { name: '<script>alert("x")</script>' }, { escapeHtml: true })).toBe(
        '<b>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</b>',
      );
    });

    it('escapes quotes, so a value cannot leave an attribute', () => {
      expect(fillPlaceholders('<a title="((t))">', { t: `" onmouseover='x'` }, { escapeHtml: true })).toBe(
        '<a title="&quot; onmouseover=&#39;x&#39;">',
      );
    });

    it('escapes the items of a list value', () => {
      expect(fillPlaceholders('((x))', { x: ['<i>', 'b&c'] }, { escapeHtml: true, listStyle: 'markdown' })).toBe(
        '\n\n* &lt;i&gt;\n* b&amp;c',
      );
    });

    it('leaves values unescaped by default', () => {
      expect(fillPlaceholders('((x))', { x: '<i>&' })).toBe('<i>&');
    });
  });
});

describe('escapeKeepingEntities', () => {
  it('escapes markup characters', () => {
    expect(escapeKeepingEntities(`<a href="x">Tom & 'Jerry'</a>`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;',
    );
  });

  it('does not escape a complete character reference twice', () => {
    expect(escapeKeepingEntities('&amp; &lt; &#169; &#xA9; &copy;')).toBe('&amp; &lt; &#169; &#xA9; &copy;');
  });

  it('escapes an ampersand that does not start a complete reference', () => {
    expect(escapeKeepingEntities('AT&T &amp &#x; & ;')).toBe('AT&amp;T &amp;amp &amp;#x; &amp; ;');
  });
});
