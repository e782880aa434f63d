/**
 * CSV that Envoi writes for people to open in a spreadsheet (DESIGN §5). A cell starting with `=`, `+`, `-`, `@`,
 * a tab or a carriage return would be read as a formula (`=HYPERLINK(…)` in a recipient's name), so it gets a
 * leading apostrophe, which spreadsheets show as text and do not display. Then RFC 4180 quoting.
 */

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One cell, safe from formula injection and quoted when it must be. */
export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One line of cells, ending in CRLF as RFC 4180 asks. */
export function csvLine(cells: ReadonlyArray<string | number | null | undefined>): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}
