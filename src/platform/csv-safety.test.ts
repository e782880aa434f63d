import { describe, expect, it } from 'vitest';
import { csvCell, csvLine } from './csv-safety.ts';

describe('csvCell', () => {
  it('prefixes cells a spreadsheet would read as a formula with an apostrophe', () => {
    for (const start of ['=', '+', '-', '@', '\t', '\r']) {
      expect(csvCell(`${start}cmd`).replace(/^"|"$/g, '')).toBe(`'${start}cmd`);
    }
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(csvCell('+16135550123')).toBe("'+16135550123");
  });

  it('leaves other cells alone, quoting only when a separator, quote or line break needs it', () => {
    expect(csvCell('plain text')).toBe('plain text');
    expect(csvCell('a=b')).toBe('a=b');
    expect(csvCell('Smith, Jane')).toBe('"Smith, Jane"');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
    expect(csvCell(42)).toBe('42');
    expect(csvCell(-1)).toBe("'-1");
    expect(csvCell(null)).toBe('');
  });

  it('writes a line ending in CRLF', () => {
    expect(csvLine([1, '@me', 'ok'])).toBe("1,'@me,ok\r\n");
  });
});
