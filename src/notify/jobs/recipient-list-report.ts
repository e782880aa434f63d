/**
 * What checking a recipient list finds (recipient-list.ts): the report's shape, GC Notify's wording of each problem
 * for the bulk API, and the same findings written for a person (`summarise`).
 */
import type { PHONE_ERRORS } from '../../platform/recipients.ts';
import { SMS_CHARACTER_LIMIT } from '../template-language/index.ts';

export type ListTemplateType = 'email' | 'sms';

export interface RecipientListOptions {
  templateType: ListTemplateType;
  /** Every text placeholders are read from: subject and content for email, content for text messages. */
  templateTexts: string[];
  /** The text that is rendered for each row (the email body or the text message). */
  templateContent: string;
  /** Most rows one list may have. */
  maxRows: number;
  /** Messages the service may still send today, or null for no limit (test keys). */
  remainingToday: number | null;
  /** Normalised recipients (lower-cased email, E.164 phone) the service may send to, or null for anyone. */
  allowedRecipients: ReadonlySet<string> | null;
  /** Why `allowedRecipients` applies: the service is in trial mode, or the API key is a team key. */
  restrictionReason: 'trial' | 'team' | null;
  /** Region for phone numbers written without a country code. */
  phoneRegion: string;
  /** The service may text numbers outside its own country. */
  allowInternational: boolean;
  /** Accept simulated and real phone numbers in one list (test API keys). Default false. */
  allowMixedSimulated?: boolean;
  /** Language of the recipient column's name in "Missing column headers". Default `en`. */
  language?: 'en' | 'fr';
  /** Rows listed in the API's "Some rows have errors" message (GC Notify: 20). */
  maxRowsInMessage?: number;
  /** Row errors kept in the report (the total is always counted). Default 1,000. */
  maxRowErrors?: number;
}

export interface CheckedRow {
  /** 1 for the first row under the headers. */
  rowNumber: number;
  /** The recipient as written (whitespace trimmed); '' when missing. */
  recipient: string;
  /** Lower-cased email or E.164 phone number; null when the recipient is missing or invalid. */
  normalisedRecipient: string | null;
  /** One value per template placeholder, keyed by the placeholder's name as the template writes it. */
  personalisation: Record<string, string>;
  /** The optional `reference` column (the notification's client reference); null when absent or empty. */
  reference: string | null;
  /** A smoke-test recipient: accepted, never sent. */
  simulated: boolean;
  /** What is wrong with the row, e.g. `column "phone number": Not enough digits`. Empty when it can be sent. */
  errors: string[];
}

export type ListProblemKind =
  | 'no_rows'
  | 'missing_headers'
  | 'duplicate_headers'
  | 'daily_limit'
  | 'too_many_rows'
  | 'not_allowed'
  | 'row_errors'
  | 'message_errors'
  | 'mixed_simulated';

export interface ListProblem {
  kind: ListProblemKind;
  message: string;
}

/**
 * What is wrong with a cell or a row's message, for a UI to put in its own words (`send.cell.<code>` in the web
 * UI's words); `message` keeps the English that the CLI and the API show.
 */
export type RowErrorCode =
  | 'missing'
  | 'invalidEmail'
  | `phone.${keyof typeof PHONE_ERRORS}`
  | 'international'
  | 'empty'
  | 'smsTooLong'
  | 'emailTooLong';

export interface RowError {
  /** 1 for the first row under the headers. */
  row: number;
  /** The column's header as written, or null for a problem with the whole message (too long, empty). */
  column: string | null;
  message: string;
  code: RowErrorCode;
  /** The numbers `message` names (`count` characters, `size` bytes, `limit`), for the translated words. */
  params?: Record<string, number>;
}

export interface RowExample {
  row: number;
  recipient: string;
}

export interface HeaderReport {
  /** The recipient column's header as written, or null when there is none. */
  recipientColumn: string | null;
  /** Placeholder name → the header of the column that fills it. */
  placeholderColumns: Record<string, string>;
  referenceColumn: string | null;
  /** Headers of columns that are not used. */
  ignoredColumns: string[];
  /** Sorted, as in `Missing column headers: …`. */
  missing: string[];
  /** Sorted, as in `Duplicate column headers: …`. */
  duplicates: string[];
}

export interface ListReport {
  /** Rows under the headers (blank rows are not rows). */
  rowCount: number;
  ok: boolean;
  /** In the order GC Notify checks them; `problems[0].message` is what its bulk API answers. */
  problems: ListProblem[];
  /** The first `maxRowErrors` row errors, in row order. */
  rowErrors: RowError[];
  rowErrorCount: number;
  rowsWithErrors: number;
  /** Rows whose recipient the restriction does not allow. */
  notAllowed: { count: number; examples: RowExample[] };
  /** A warning only: `count` rows repeat an earlier row's recipient; `recipients` distinct recipients repeat. */
  duplicateRecipients: { count: number; recipients: number; examples: RowExample[] };
  simulatedCount: number;
  /** Rows that count against the daily limit (all but simulated recipients). */
  messageCount: number;
  warnings: string[];
  /** Everything above written for a person, one line each. */
  summary: string[];
}

/** The messages GC Notify's bulk API answers with (app/v2/notifications/post_notifications.py). */
export const BULK_MESSAGES = {
  missingHeaders: (headers: string[]) => `Missing column headers: ${headers.join(', ')}`,
  duplicateHeaders: (headers: string[]) => `Duplicate column headers: ${headers.join(', ')}`,
  dailyLimit: (remaining: number, tried: number) =>
    `You only have ${remaining} remaining messages before you reach your daily limit. You've tried to send ${tried} messages.`,
  tooManyRows: (maxRows: number) => `Too many rows. Maximum number of rows allowed is ${maxRows}`,
  notAllowedTeam: 'You cannot send to these recipients because you used a team and safelist API key.',
  notAllowedTrial:
    'You cannot send to these recipients because your service is in trial mode. You can only send to members of your team and your safelist.',
  rowErrors: (rows: string[]) => `Some rows have errors. ${rows.join('. ')}.`,
  smsTooLong: `Content for template has a character count greater than the limit of ${SMS_CHARACTER_LIMIT}`,
  emptyMessage: 'Message is empty or just whitespace',
  /** GC appends this to the message check that fails first; its row number counts from 1. */
  rowMessage: (message: string, recipient: string, rowNumber: number) =>
    `${message}. Notification to ${recipient} on row #${rowNumber} exceeds the maximum size limit.`,
  mixedSimulated: 'Bulk sending to testing and non-testing numbers is not supported',
} as const;

/** The report for a person: one line per finding, row errors as `Row 3, column "phone number": Not enough digits`. */
export function summarise(report: ListReport): string[] {
  const lines: string[] = [];
  for (const problem of report.problems) {
    switch (problem.kind) {
      case 'row_errors':
      case 'message_errors':
        break; // listed row by row below, numbered from 1
      case 'not_allowed':
        lines.push(`${problem.message} (${plural(report.notAllowed.count, 'row', 'rows')})`);
        for (const example of report.notAllowed.examples) {
          lines.push(`Row ${example.row}: ${example.recipient} is not a member of your team or on your safelist`);
        }
        break;
      default:
        lines.push(problem.message);
    }
  }
  if (report.rowErrorCount > 0) {
    lines.push(
      `${plural(report.rowsWithErrors, 'row has', 'rows have')} errors (${plural(report.rowErrorCount, 'error', 'errors')}):`,
    );
    for (const error of report.rowErrors) {
      const where = error.column === null ? `Row ${error.row}:` : `Row ${error.row}, column "${error.column}":`;
      lines.push(`${where} ${error.message}`);
    }
    const more = report.rowErrorCount - report.rowErrors.length;
    if (more > 0) lines.push(`…and ${plural(more, 'more error', 'more errors')}`);
  }
  for (const warning of report.warnings) lines.push(`Warning: ${warning}`);
  return lines;
}

export function plural(n: number, one: string, many: string): string {
  return `${n.toLocaleString('en')} ${n === 1 ? one : many}`;
}
