/**
 * Reading uploaded recipient lists: CSV, TSV and Excel workbooks, one row at a time.
 *
 * Rows come out as arrays of strings, header first, with fully blank rows skipped. CSV and TSV are parsed as a
 * stream (memory stays flat whatever the file's size); bytes are read as UTF-8 (with or without a byte order
 * mark), as UTF-16 when the file starts with a UTF-16 byte order mark (Excel's "Unicode Text"), and as
 * Windows-1252 when they are not valid UTF-8 (Excel's plain "CSV" on Windows). Cell values are not trimmed here:
 * the recipient list checker strips them the way Notify does.
 *
 * Nothing a cell holds is interpreted: `=HYPERLINK(…)` is just text. Spreadsheets that Envoi writes escape such
 * cells (DESIGN.md §5); reading never evaluates them.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse, type CsvError } from 'csv-parse';
import { stripAndRemoveObscureWhitespace } from '../template-language/whitespace.ts';

export type SpreadsheetFormat = 'csv' | 'tsv' | 'xlsx';

/** A file's bytes (a stream of Buffers, or one Buffer), or text already decoded (CSV and TSV only). */
export type SpreadsheetInput = Readable | Buffer | Uint8Array | string;

export interface ReadOptions {
  /**
   * Longest row accepted, in characters (CSV and TSV). A quote left open would otherwise make the rest of the
   * file one cell, held in memory. Default 1,000,000.
   */
  maxRowCharacters?: number;
}

/** The file cannot be read as the format it claims to be. The message is written for the person who uploaded it. */
export class SpreadsheetReadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SpreadsheetReadError';
  }
}

const EXTENSIONS: Record<string, SpreadsheetFormat> = {
  csv: 'csv',
  tsv: 'tsv',
  // Excel's text exports ("Text (Tab delimited)", "Unicode Text") are tab-separated and named .txt.
  txt: 'tsv',
  xlsx: 'xlsx',
  // A macro-enabled workbook is the same format; macros are never run.
  xlsm: 'xlsx',
};

/** The format a file name announces, or null when Envoi cannot read it (`.xls` and `.ods` included). */
export function formatFromFilename(name: string): SpreadsheetFormat | null {
  const match = /\.([A-Za-z0-9]+)\s*$/.exec(name);
  if (!match) return null;
  return EXTENSIONS[match[1]!.toLowerCase()] ?? null;
}

/** Rows of the file, header first. Blank rows (every cell empty or whitespace) are skipped. */
export function readRows(
  input: SpreadsheetInput,
  format: SpreadsheetFormat,
  options: ReadOptions = {},
): AsyncGenerator<string[]> {
  return format === 'xlsx' ? readWorkbook(input) : readDelimited(input, format === 'tsv' ? '\t' : ',', options);
}

function isBlankRow(cells: string[]): boolean {
  for (const cell of cells) {
    if (cell !== '' && stripAndRemoveObscureWhitespace(cell) !== '') return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// Bytes to text

async function* byteChunks(input: SpreadsheetInput): AsyncGenerator<Buffer> {
  if (typeof input === 'string') {
    yield Buffer.from(input, 'utf8');
    return;
  }
  if (input instanceof Uint8Array) {
    yield Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    return;
  }
  for await (const chunk of input as AsyncIterable<Buffer | Uint8Array | string>) {
    if (typeof chunk === 'string') yield Buffer.from(chunk, 'utf8');
    else yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }
}

/** Windows-1252's printable characters at 0x80–0x9F; the five unassigned bytes keep their Latin-1 code points. */
const CP1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8d, 0x017d,
  0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x9d,
  0x017e, 0x0178,
].map((code) => String.fromCharCode(code));

// Node's TextDecoder('windows-1252') decodes 0x80–0x9F as Latin-1 control characters, so the table is applied by hand.
function decodeWindows1252(bytes: Buffer): string {
  return bytes.toString('latin1').replace(/[\x80-\x9f]/g, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80]!);
}

/** Bytes examined after the first non-ASCII byte before choosing between UTF-8 and Windows-1252. */
const ENCODING_LOOKAHEAD = 4096;

type Encoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

function firstNonAscii(bytes: Buffer): number {
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! >= 0x80) return i;
  return -1;
}

function looksLikeUtf8(sample: Buffer, complete: boolean): boolean {
  try {
    // `stream: true` forgives a sequence cut off at the end of the sample, but not one that is wrong.
    new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: !complete });
    return true;
  } catch {
    return false;
  }
}

/**
 * Decodes a byte stream. While the bytes are ASCII the encoding does not matter; at the first other byte, up to
 * 4 KB are examined: valid UTF-8 there means UTF-8 for the whole file (a later invalid byte is an error, not a
 * silent replacement), anything else means Windows-1252.
 */
async function* decodeText(chunks: AsyncIterable<Buffer>): AsyncGenerator<string> {
  let encoding: Encoding | null = null;
  let decoder: TextDecoder | null = null;
  let pending: Buffer = Buffer.alloc(0);
  let checkedBom = false;
  let bytesDecoded = 0;

  const choose = (chosen: Encoding): void => {
    encoding = chosen;
    if (chosen === 'utf-8') decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    else if (chosen !== 'windows-1252') decoder = new TextDecoder(chosen, { ignoreBOM: true });
  };

  const decode = (bytes: Buffer, final: boolean): string => {
    if (encoding === 'windows-1252') return decodeWindows1252(bytes);
    try {
      const text = decoder!.decode(bytes, { stream: !final });
      bytesDecoded += bytes.length;
      return text;
    } catch (error) {
      throw new SpreadsheetReadError(
        `The file is not valid UTF-8 text (near byte ${bytesDecoded + bytes.length}). Save it as “CSV UTF-8” and upload it again.`,
        { cause: error },
      );
    }
  };

  // Consumes what it can of `pending`; returns text to emit.
  const advance = (ended: boolean): string => {
    if (!checkedBom) {
      if (pending.length < 3 && !ended) return '';
      checkedBom = true;
      if (pending[0] === 0xef && pending[1] === 0xbb && pending[2] === 0xbf) {
        choose('utf-8');
        pending = pending.subarray(3);
      } else if (pending[0] === 0xff && pending[1] === 0xfe) {
        choose('utf-16le');
        pending = pending.subarray(2);
      } else if (pending[0] === 0xfe && pending[1] === 0xff) {
        choose('utf-16be');
        pending = pending.subarray(2);
      }
    }
    if (encoding === null) {
      const at = firstNonAscii(pending);
      if (at === -1) {
        const ascii = pending.toString('latin1');
        bytesDecoded += pending.length;
        pending = Buffer.alloc(0);
        return ascii;
      }
      const ascii = pending.subarray(0, at).toString('latin1');
      bytesDecoded += at;
      pending = pending.subarray(at);
      if (pending.length < ENCODING_LOOKAHEAD && !ended) return ascii;
      const sample = pending.subarray(0, ENCODING_LOOKAHEAD);
      choose(looksLikeUtf8(sample, ended && sample.length === pending.length) ? 'utf-8' : 'windows-1252');
      return ascii + advance(ended);
    }
    const text = decode(pending, ended);
    pending = Buffer.alloc(0);
    return text;
  };

  for await (const chunk of chunks) {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    const text = advance(false);
    if (text !== '') yield text;
  }
  const rest = advance(true);
  if (rest !== '') yield rest;
}

// ---------------------------------------------------------------------------------------------------------------
// CSV and TSV

const DEFAULT_MAX_ROW_CHARACTERS = 1_000_000;

function csvProblem(error: CsvError, maxRowCharacters: number): SpreadsheetReadError {
  const line = typeof error.lines === 'number' ? error.lines : undefined;
  switch (error.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return new SpreadsheetReadError(
        'A quoted cell is never closed: a double quote (") opens a cell that runs to the end of the file.',
        { cause: error },
      );
    case 'CSV_MAX_RECORD_SIZE':
      return new SpreadsheetReadError(
        `Row on line ${line ?? '?'} is longer than ${maxRowCharacters.toLocaleString('en')} characters. Check for a double quote (") that is never closed.`,
        { cause: error },
      );
    default:
      return new SpreadsheetReadError(
        `The file could not be read${line === undefined ? '' : ` at line ${line}`}: ${error.message}`,
        { cause: error },
      );
  }
}

async function* readDelimited(
  input: SpreadsheetInput,
  delimiter: ',' | '\t',
  options: ReadOptions,
): AsyncGenerator<string[]> {
  const maxRowCharacters = options.maxRowCharacters ?? DEFAULT_MAX_ROW_CHARACTERS;
  const parser = parse({
    delimiter,
    // Any of the three line endings, even mixed in one file (files pasted together from several sources).
    record_delimiter: ['\r\n', '\n', '\r'],
    relax_column_count: true,
    // Like Python's csv module: a quote inside an unquoted cell (`5'11"`) is just a character.
    relax_quotes: true,
    skip_empty_lines: true,
    // Notify reads CSV with `skipinitialspace`, so `a, "b,c"` is two cells.
    ltrim: delimiter === ',',
    max_record_size: maxRowCharacters,
  });
  const text = Readable.from(decodeText(byteChunks(input)));
  const flowing = pipeline(text, parser);
  flowing.catch(() => {}); // the same error reaches the loop below through the parser
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (!isBlankRow(record)) yield record;
    }
    await flowing;
  } catch (error) {
    if (error instanceof SpreadsheetReadError) throw error;
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('CSV_')) throw csvProblem(error as CsvError, maxRowCharacters);
    throw error;
  } finally {
    // Also on an early return by the caller: nothing more is read from its stream.
    text.destroy();
    parser.destroy();
    if (input instanceof Readable) input.destroy();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Excel workbooks

function isoDate(date: Date): string {
  if (Number.isNaN(date.getTime())) return '';
  const iso = date.toISOString();
  // Excel stores wall-clock times without a zone; exceljs hands them over as UTC. A whole day is a date.
  return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso.slice(0, 19);
}

/** A cell's value as the text a person sees (formulas give their last computed result). */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (value instanceof Date) return isoDate(value);
  if (typeof value === 'object') {
    const cell = value as Record<string, unknown>;
    if (Array.isArray(cell.richText)) {
      return cell.richText.map((run: { text?: unknown }) => (typeof run?.text === 'string' ? run.text : '')).join('');
    }
    if ('formula' in cell || 'sharedFormula' in cell) return cellText(cell.result);
    if ('text' in cell) return cellText(cell.text); // hyperlink
    if (typeof cell.error === 'string') return cell.error; // #N/A, #DIV/0! …
  }
  return '';
}

async function* readWorkbook(input: SpreadsheetInput): AsyncGenerator<string[]> {
  if (typeof input === 'string') {
    // exceljs would take a string for a file name: never hand it one.
    throw new SpreadsheetReadError('An Excel workbook must be read from its bytes, not from text.');
  }
  // Loaded for the first workbook only: exceljs adds about 25 MB to a process, and most lists are CSV.
  const { default: ExcelJS } = await import('exceljs');
  const stream = input instanceof Uint8Array ? Readable.from([Buffer.from(input)]) : input;
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(stream, {
    entries: 'emit',
    worksheets: 'emit',
    sharedStrings: 'cache',
    styles: 'cache', // needed to tell dates from numbers
    hyperlinks: 'ignore',
  });
  try {
    for await (const worksheet of reader) {
      for await (const row of worksheet) {
        const values = row.values as unknown[];
        const cells: string[] = [];
        // exceljs rows are 1-based and sparse.
        for (let column = 1; column < values.length; column++) cells.push(cellText(values[column]));
        if (!isBlankRow(cells)) yield cells;
      }
      return; // the first worksheet only
    }
  } catch (error) {
    if (error instanceof SpreadsheetReadError) throw error;
    throw new SpreadsheetReadError('The file could not be read as an Excel workbook (.xlsx).', { cause: error });
  } finally {
    stream.destroy();
  }
}
