import { Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import {
  cellText,
  formatFromFilename,
  readRows,
  SpreadsheetReadError,
  type SpreadsheetFormat,
  type SpreadsheetInput,
} from './spreadsheet.ts';

async function rowsOf(input: SpreadsheetInput, format: SpreadsheetFormat = 'csv', maxRowCharacters?: number) {
  const rows: string[][] = [];
  for await (const row of readRows(input, format, { maxRowCharacters })) rows.push(row);
  return rows;
}

async function readError(input: SpreadsheetInput, format: SpreadsheetFormat = 'csv', maxRowCharacters?: number) {
  try {
    await rowsOf(input, format, maxRowCharacters);
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the file to be refused');
}

/** A stream that hands over the bytes in the given pieces, as a socket or a file read might. */
function chunked(...pieces: Array<number[] | Buffer | string>): Readable {
  return Readable.from(pieces.map((piece) => (Array.isArray(piece) ? Buffer.from(piece) : Buffer.from(piece))));
}

function byteByByte(bytes: Buffer): Readable {
  return Readable.from([...bytes].map((byte) => Buffer.from([byte])));
}

describe('formatFromFilename', () => {
  it.each([
    ['list.csv', 'csv'],
    ['LIST.CSV', 'csv'],
    ['my list.v2.tsv', 'tsv'],
    ['export.txt', 'tsv'],
    ['people.xlsx', 'xlsx'],
    ['macros.XLSM', 'xlsx'],
    ['old.xls', null],
    ['sheet.ods', null],
    ['notes.pdf', null],
    ['csv', null],
    ['', null],
  ])('%s → %s', (name, format) => {
    expect(formatFromFilename(name)).toBe(format);
  });
});

describe('readRows: CSV', () => {
  it('reads the header first, then each row', async () => {
    expect(await rowsOf('email address,name\na@example.com,Ann\nb@example.com,Bob\n')).toEqual([
      ['email address', 'name'],
      ['a@example.com', 'Ann'],
      ['b@example.com', 'Bob'],
    ]);
  });

  it('reads quoted cells holding commas, newlines and doubled quotes', async () => {
    const csv = 'email address,address,note\r\na@example.com,"1 Main St,\r\nOttawa","She said ""hi"""\r\n';
    expect(await rowsOf(csv)).toEqual([
      ['email address', 'address', 'note'],
      ['a@example.com', '1 Main St,\r\nOttawa', 'She said "hi"'],
    ]);
  });

  it('skips blank lines and rows of empty cells, wherever they are', async () => {
    const csv = '\n\nemail address,name\n\na@example.com,Ann\n,\n ,  \n,,,\nb@example.com,Bob\n\n,,\n';
    expect(await rowsOf(csv)).toEqual([
      ['email address', 'name'],
      ['a@example.com', 'Ann'],
      ['b@example.com', 'Bob'],
    ]);
  });

  it('accepts rows shorter or longer than the header', async () => {
    expect(await rowsOf('a,b,c\n1\n1,2,3,4\n')).toEqual([['a', 'b', 'c'], ['1'], ['1', '2', '3', '4']]);
  });

  it('reads files whose line endings are mixed', async () => {
    expect(await rowsOf('a,b\r\n1,2\n3,4\r5,6')).toEqual([
      ['a', 'b'],
      ['1', '2'],
      ['3', '4'],
      ['5', '6'],
    ]);
  });

  it('skips spaces after a comma so that a quoted cell is still quoted, and keeps other whitespace', async () => {
    expect(await rowsOf('a,b,c\n1, "x,y",  z  \n')).toEqual([
      ['a', 'b', 'c'],
      ['1', 'x,y', 'z  '],
    ]);
  });

  it('treats a quote inside an unquoted cell as a character', async () => {
    expect(await rowsOf('name,height\nAnn,5\'11"\n')).toEqual([
      ['name', 'height'],
      ['Ann', '5\'11"'],
    ]);
  });

  it('gives nothing for an empty file, and only the header for a header-only file', async () => {
    expect(await rowsOf('')).toEqual([]);
    expect(await rowsOf(Buffer.alloc(0))).toEqual([]);
    expect(await rowsOf(Readable.from([]))).toEqual([]);
    expect(await rowsOf('\r\n\r\n,,\r\n')).toEqual([]);
    expect(await rowsOf('email address,name\r\n')).toEqual([['email address', 'name']]);
  });

  it('reads a Buffer, a Uint8Array and a stream of strings alike', async () => {
    const csv = 'a,b\n1,2\n';
    const expected = [
      ['a', 'b'],
      ['1', '2'],
    ];
    expect(await rowsOf(Buffer.from(csv))).toEqual(expected);
    expect(await rowsOf(new Uint8Array(Buffer.from(csv)))).toEqual(expected);
    expect(await rowsOf(Readable.from(['a,', 'b\n1', ',2\n']))).toEqual(expected);
  });
});

describe('readRows: hostile input', () => {
  it('returns formula-looking cells as plain text', async () => {
    const csv =
      'email address,name\na@example.com,"=HYPERLINK(""http://evil.example"",""click"")"\nb@example.com,+cmd|\' /C calc\'!A0\nc@example.com,@SUM(1+1)\nd@example.com,-2+3\n';
    const rows = await rowsOf(csv);
    expect(rows.slice(1).map((row) => row[1])).toEqual([
      '=HYPERLINK("http://evil.example","click")',
      "+cmd|' /C calc'!A0",
      '@SUM(1+1)',
      '-2+3',
    ]);
  });

  it('reads a very long cell in full', async () => {
    const long = 'x'.repeat(300_000);
    const rows = await rowsOf(`email address,name\na@example.com,${long}\n`);
    expect(rows[1]![1]).toHaveLength(300_000);
  });

  it('refuses a row longer than the limit instead of holding it all', async () => {
    const error = await readError(`a,b\n1,${'x'.repeat(5000)}\n`, 'csv', 1000);
    expect(error).toBeInstanceOf(SpreadsheetReadError);
    expect(error.message).toBe(
      'Row on line 2 is longer than 1,000 characters. Check for a double quote (") that is never closed.',
    );
  });

  it('refuses a quote that is never closed', async () => {
    const error = await readError('a,b\n"open,2\n3,4\n');
    expect(error).toBeInstanceOf(SpreadsheetReadError);
    expect(error.message).toBe(
      'A quoted cell is never closed: a double quote (") opens a cell that runs to the end of the file.',
    );
  });

  it('passes on an error of the stream it reads', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('disk on fire'));
      },
    });
    await expect(rowsOf(failing)).rejects.toThrow('disk on fire');
  });

  it('stops reading when the caller stops', async () => {
    let produced = 0;
    const endless = new Readable({
      read() {
        produced++;
        this.push(`row${produced}@example.com,x\n`.repeat(1000));
      },
    });
    const rows: string[][] = [];
    for await (const row of readRows(endless, 'csv')) {
      rows.push(row);
      if (rows.length === 10) break;
    }
    expect(rows).toHaveLength(10);
    expect(endless.destroyed).toBe(true);
  });
});

describe('readRows: encodings', () => {
  const text = 'email address,name\nzoe@example.com,Zoé Côté\n';
  const expected = [
    ['email address', 'name'],
    ['zoe@example.com', 'Zoé Côté'],
  ];

  it('reads UTF-8 with a byte order mark, which is not part of the first header', async () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
    expect(await rowsOf(bytes)).toEqual(expected);
    expect(await rowsOf(byteByByte(bytes))).toEqual(expected);
  });

  it('drops a byte order mark from text too', async () => {
    expect(await rowsOf(`\uFEFF${text}`)).toEqual(expected);
  });

  it('reads UTF-8 without a byte order mark', async () => {
    expect(await rowsOf(Buffer.from(text))).toEqual(expected);
  });

  it('reads Windows-1252 when the bytes are not UTF-8 (é as 0xE9)', async () => {
    const bytes = Buffer.from(text, 'latin1');
    expect(bytes.includes(0xe9)).toBe(true);
    expect(await rowsOf(bytes)).toEqual(expected);
    expect(await rowsOf(byteByByte(bytes))).toEqual(expected);
  });

  it('maps Windows-1252 punctuation at 0x80–0x9F (€ ’ “ ” – —)', async () => {
    const bytes = Buffer.from([...Buffer.from('a\n'), 0x80, 0x92, 0x93, 0x94, 0x96, 0x97, 0x8c, 0x9c, 0x0a]);
    expect(await rowsOf(bytes)).toEqual([['a'], ['€’“”–—Œœ']]);
  });

  it('reads Windows-1252 whose first accented letter comes after many kilobytes of ASCII', async () => {
    const ascii = `email address,name\n${'someone@example.com,Ann\n'.repeat(2000)}`;
    const bytes = Buffer.concat([Buffer.from(ascii), Buffer.from('zoe@example.com,Zoé\n', 'latin1')]);
    const rows = await rowsOf(Readable.from([bytes.subarray(0, 30_000), bytes.subarray(30_000)]));
    expect(rows).toHaveLength(2002);
    expect(rows[2001]).toEqual(['zoe@example.com', 'Zoé']);
  });

  it('reads a UTF-8 character split across chunks', async () => {
    // é is C3 A9: the first chunk ends after C3.
    expect(await rowsOf(chunked('a,b\n1,Zo', [0xc3], [0xa9, 0x0a]))).toEqual([
      ['a', 'b'],
      ['1', 'Zoé'],
    ]);
    // A four-byte emoji cut in three places, after the encoding has been chosen.
    const emoji = Buffer.from('😀');
    expect(await rowsOf(chunked('a\né\n', [emoji[0]!], [emoji[1]!, emoji[2]!], [emoji[3]!], '\n'))).toEqual([
      ['a'],
      ['é'],
      ['😀'],
    ]);
  });

  it('reads a UTF-8 file delivered one byte at a time', async () => {
    const many = `email address,name\n${'zoë@example.com,Zoé Ñandú 😀 ᐃᓄᒃᑎᑐᑦ\n'.repeat(300)}`;
    const rows = await rowsOf(byteByByte(Buffer.from(many)));
    expect(rows).toHaveLength(301);
    expect(rows.every((row, i) => i === 0 || row[1] === 'Zoé Ñandú 😀 ᐃᓄᒃᑎᑐᑦ')).toBe(true);
  });

  it('reads UTF-8 whose first non-ASCII character straddles the 4 KB sample', async () => {
    const prefix = `a\n${'x'.repeat(4094)}`; // the é starts at byte 4096, and 4 KB after it cuts a character
    const body = `${prefix}\né${'😀'.repeat(2000)}\n`;
    const rows = await rowsOf(Buffer.from(body));
    expect(rows[2]![0]).toBe(`é${'😀'.repeat(2000)}`);
  });

  it('refuses bytes that are not UTF-8 after UTF-8 was chosen, rather than guess', async () => {
    const bytes = Buffer.concat([Buffer.from('a\nZoé\n'.repeat(1000)), Buffer.from([0x5a, 0x6f, 0xe9, 0x0a])]);
    const error = await readError(bytes);
    expect(error).toBeInstanceOf(SpreadsheetReadError);
    expect(error.message).toMatch(
      /^The file is not valid UTF-8 text \(near byte \d+\)\. Save it as “CSV UTF-8” and upload it again\.$/,
    );
  });

  it('reads UTF-16 with a byte order mark (Excel’s “Unicode Text”, tab-separated)', async () => {
    const tsv = 'phone number\tname\n6132532222\tZoé 😀\n';
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(tsv, 'utf16le')]);
    expect(await rowsOf(byteByByte(le), 'tsv')).toEqual([
      ['phone number', 'name'],
      ['6132532222', 'Zoé 😀'],
    ]);
    const be = Buffer.from(le);
    be.swap16();
    expect(await rowsOf(be, 'tsv')).toEqual([
      ['phone number', 'name'],
      ['6132532222', 'Zoé 😀'],
    ]);
  });
});

describe('readRows: TSV', () => {
  it('splits on tabs, keeps commas, and keeps empty cells', async () => {
    expect(await rowsOf('phone number\tname\taddress\n6132532222\t\t1 Main St, Ottawa\n\t\t\n', 'tsv')).toEqual([
      ['phone number', 'name', 'address'],
      ['6132532222', '', '1 Main St, Ottawa'],
    ]);
  });

  it('reads quoted cells holding tabs and newlines', async () => {
    expect(await rowsOf('a\tb\n"x\ty"\t"line 1\nline 2"\n', 'tsv')).toEqual([
      ['a', 'b'],
      ['x\ty', 'line 1\nline 2'],
    ]);
  });
});

describe('readRows: Excel workbooks', () => {
  async function workbook(build: (workbook: ExcelJS.Workbook) => void): Promise<Buffer> {
    const book = new ExcelJS.Workbook();
    build(book);
    return Buffer.from(await book.xlsx.writeBuffer());
  }

  it('reads the first worksheet as text, cell by cell', async () => {
    const bytes = await workbook((book) => {
      const sheet = book.addWorksheet('Recipients');
      sheet.addRow(['phone number', 'name', 'count', 'ratio', 'day', 'when', 'total', 'flag', 'link']);
      sheet.addRow([
        16132532222,
        'Zoé',
        12,
        1.5,
        new Date(Date.UTC(2024, 0, 2)),
        new Date(Date.UTC(2024, 0, 2, 13, 45, 30)),
        { formula: 'C2*2', result: 24 },
        true,
        { text: 'our site', hyperlink: 'https://example.gc.ca' },
      ]);
      sheet.getCell('C2').numFmt = '0';
      sheet.getCell('E2').numFmt = 'yyyy-mm-dd';
      sheet.getCell('F2').numFmt = 'yyyy-mm-dd hh:mm:ss';
      sheet.addRow([]);
      sheet.addRow(['6132532223', { richText: [{ text: 'Ann ' }, { font: { bold: true }, text: 'Lee' }] }]);
      sheet.getCell('A5').value = '=not a formula, just text';
      book.addWorksheet('Other').addRow(['ignored']);
    });
    expect(await rowsOf(bytes, 'xlsx')).toEqual([
      ['phone number', 'name', 'count', 'ratio', 'day', 'when', 'total', 'flag', 'link'],
      ['16132532222', 'Zoé', '12', '1.5', '2024-01-02', '2024-01-02T13:45:30', '24', 'TRUE', 'our site'],
      ['6132532223', 'Ann Lee'],
      ['=not a formula, just text'],
    ]);
  });

  it('reads a workbook from a stream, leaving gaps in a row as empty cells', async () => {
    const bytes = await workbook((book) => {
      const sheet = book.addWorksheet('S');
      sheet.getCell('A1').value = 'email address';
      sheet.getCell('C1').value = 'name';
      sheet.getCell('A2').value = 'a@example.com';
      sheet.getCell('C2').value = 'Ann';
    });
    expect(await rowsOf(chunked(bytes.subarray(0, 100), bytes.subarray(100)), 'xlsx')).toEqual([
      ['email address', '', 'name'],
      ['a@example.com', '', 'Ann'],
    ]);
  });

  it('gives nothing for a workbook with an empty sheet', async () => {
    const bytes = await workbook((book) => book.addWorksheet('Empty'));
    expect(await rowsOf(bytes, 'xlsx')).toEqual([]);
  });

  it('refuses bytes that are not a workbook, and text', async () => {
    const error = await readError(Buffer.from('email address\na@example.com\n'), 'xlsx');
    expect(error).toBeInstanceOf(SpreadsheetReadError);
    expect(error.message).toBe('The file could not be read as an Excel workbook (.xlsx).');
    const truncated = await workbook((book) => book.addWorksheet('S').addRow(['a']));
    expect(await readError(truncated.subarray(0, truncated.length - 200), 'xlsx')).toBeInstanceOf(SpreadsheetReadError);
    expect((await readError('a,b', 'xlsx')).message).toBe(
      'An Excel workbook must be read from its bytes, not from text.',
    );
  });
});

describe('cellText', () => {
  it.each([
    [null, ''],
    [undefined, ''],
    ['text', 'text'],
    [42, '42'],
    [0.1, '0.1'],
    [16132532222, '16132532222'],
    [false, 'FALSE'],
    [{ error: '#N/A' }, '#N/A'],
    [{ sharedFormula: 'A1', result: 'x' }, 'x'],
    [{ formula: 'A1' }, ''],
    [{ text: { richText: [{ text: 'a' }, { text: 'b' }] }, hyperlink: 'https://x.ca' }, 'ab'],
  ])('%j → %j', (value, text) => {
    expect(cellText(value)).toBe(text);
  });
});
