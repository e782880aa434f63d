/**
 * The columns of a recipient list: cells read the same way everywhere, and the header row: which column holds the recipient (in English or French), which fill each
 * placeholder, the reference column, and what is missing or repeated.
 */
import { normaliseKey } from '../template-language/index.ts';
import { stripAndRemoveObscureWhitespace } from '../template-language/whitespace.ts';
import type { HeaderReport, ListTemplateType, RecipientListOptions } from './recipient-list-report.ts';

/** NUL characters: a spreadsheet saved in the wrong encoding is full of them, and PostgreSQL's text holds none. */
const NUL = /\0/g;

/** A cell as the checker reads it, and as the job reads it again when it sends: the same text both times. */
export function cleanCell(value: string | undefined): string {
  return value === undefined || value === '' ? '' : stripAndRemoveObscureWhitespace(value.replace(NUL, ''));
}

/** Recipient column names, English first (as GC Notify's `first_column_headings`). */
const RECIPIENT_HEADERS: Record<ListTemplateType, { en: string; fr: string }> = {
  email: { en: 'email address', fr: 'adresse courriel' },
  sms: { en: 'phone number', fr: 'numéro de téléphone' },
};

const REFERENCE_KEY = 'reference';

export interface PlaceholderColumn {
  name: string;
  /** Column index, or -1 when the recipient column fills it. */
  index: number;
}

/** Where each value of a row is, once the headers have no problem. */
export interface Layout {
  recipientIndex: number;
  recipientHeader: string;
  placeholders: PlaceholderColumn[];
  referenceIndex: number;
  /** Trimmed headers by column index (for error messages). */
  headers: string[];
}

export function readHeaders(
  cells: string[],
  options: RecipientListOptions,
  placeholderNames: string[],
): { report: HeaderReport; layout: Layout | null } {
  const { templateType, language = 'en' } = options;
  const names = RECIPIENT_HEADERS[templateType];
  const recipientKeys = new Set([headerKey(names.en), headerKey(names.fr)]);
  const headers = cells.map((cell) => cleanCell(cell).normalize('NFC'));

  const columnsByKey = new Map<string, number[]>();
  headers.forEach((header, index) => {
    if (header === '') return;
    const key = headerKey(header);
    const list = columnsByKey.get(key);
    if (list) list.push(index);
    else columnsByKey.set(key, [index]);
  });

  const recipientColumns = headers.flatMap((header, index) =>
    header !== '' && recipientKeys.has(headerKey(header)) ? [index] : [],
  );
  const used = new Set<number>(recipientColumns);
  const duplicateSets: number[][] = recipientColumns.length > 1 ? [recipientColumns] : [];

  const missing: string[] = [];
  if (recipientColumns.length === 0) missing.push(names[language]);

  const placeholders: PlaceholderColumn[] = [];
  const placeholderColumns: Record<string, string> = {};
  for (const name of placeholderNames) {
    const key = headerKey(name);
    if (recipientKeys.has(key)) {
      placeholders.push({ name, index: -1 });
      if (recipientColumns.length > 0) placeholderColumns[name] = headers[recipientColumns[0]!]!;
      continue;
    }
    const columns = columnsByKey.get(key);
    if (!columns) {
      missing.push(name);
      continue;
    }
    if (columns.length > 1) duplicateSets.push(columns);
    for (const index of columns) used.add(index);
    placeholders.push({ name, index: columns[0]! });
    placeholderColumns[name] = headers[columns[0]!]!;
  }

  const referenceColumns = columnsByKey.get(REFERENCE_KEY) ?? [];
  if (referenceColumns.length > 1 && !placeholderNames.some((name) => headerKey(name) === REFERENCE_KEY)) {
    duplicateSets.push(referenceColumns);
  }
  for (const index of referenceColumns) used.add(index);

  const duplicates = [...new Set(duplicateSets.flat().map((index) => headers[index]!))].sort();
  missing.sort();

  const report: HeaderReport = {
    recipientColumn: recipientColumns.length > 0 ? headers[recipientColumns[0]!]! : null,
    placeholderColumns,
    referenceColumn: referenceColumns.length > 0 ? headers[referenceColumns[0]!]! : null,
    ignoredColumns: headers.filter((header, index) => header !== '' && !used.has(index)),
    missing,
    duplicates,
  };
  if (missing.length > 0 || duplicates.length > 0) return { report, layout: null };
  return {
    report,
    layout: {
      recipientIndex: recipientColumns[0]!,
      recipientHeader: headers[recipientColumns[0]!]!,
      placeholders,
      referenceIndex: referenceColumns.length > 0 ? referenceColumns[0]! : -1,
      headers,
    },
  };
}

function headerKey(header: string): string {
  return normaliseKey(header.normalize('NFC'));
}
