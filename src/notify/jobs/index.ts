// Bulk sending: reading recipient lists (CSV, TSV, Excel) and checking them row by row.

export {
  cellText,
  formatFromFilename,
  readRows,
  SpreadsheetReadError,
  type ReadOptions,
  type SpreadsheetFormat,
  type SpreadsheetInput,
} from './spreadsheet.ts';
export {
  BULK_MESSAGES,
  RecipientListChecker,
  summarise,
  type CheckedRow,
  type HeaderReport,
  type ListProblem,
  type ListProblemKind,
  type ListReport,
  type ListTemplateType,
  type RecipientListOptions,
  type RowError,
  type RowErrorCode,
  type RowExample,
} from './recipient-list.ts';
export { SeenRecipients } from './seen-recipients.ts';
