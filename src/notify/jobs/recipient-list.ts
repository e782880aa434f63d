/**
 * Checks a recipient list (a CSV or spreadsheet upload, or the bulk API's `rows`/`csv`) one row at a time, as GC
 * Notify's RecipientCSV does, but without holding the list: a million rows cost the rows' own processing plus a
 * compact set of recipients already seen (for the duplicate warning).
 *
 *   const checker = new RecipientListChecker(options);
 *   checker.header(firstRow);
 *   for (const cells of rest) store(checker.row(cells));   // rows go onward; the checker keeps none
 *   const report = checker.finish();                        // only now is it known whether the list can be sent
 *
 * `report.problems[i].message` is the text GC Notify's `POST /v2/notifications/bulk` answers with, in the order
 * it checks them, so the API can return `problems[0]` as-is. `report.summary` is the same findings written for a
 * person (CLI, web UI), with rows numbered from 1 at the first row under the headers.
 */
import {
  InvalidRecipientError,
  isSimulatedRecipient,
  type PHONE_ERRORS,
  validateEmailAddress,
  validatePhoneNumber,
  type CountryCode,
  type RecipientProblem,
} from '../../platform/recipients.ts';
import {
  normaliseKey,
  placeholderNames,
  renderEmailBody,
  renderSms,
  SMS_CHARACTER_LIMIT,
} from '../template-language/index.ts';
import { stripAndRemoveObscureWhitespace } from '../template-language/whitespace.ts';
import { SeenRecipients } from './seen-recipients.ts';

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

/** Recipient column names, English first (as GC Notify's `first_column_headings`). */
const RECIPIENT_HEADERS: Record<ListTemplateType, { en: string; fr: string }> = {
  email: { en: 'email address', fr: 'adresse courriel' },
  sms: { en: 'phone number', fr: 'numéro de téléphone' },
};

const REFERENCE_KEY = 'reference';
const MISSING = 'Missing';
const EMAIL_SIZE_LIMIT_BYTES = 2_000_000; // as src/notify/sending/send-rules.ts
const EXAMPLES = 10;

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

const INTERNATIONAL_ERROR = 'Cannot send to international mobile numbers';

/** The row error code of a recipient the validators refused. */
function recipientCode(problem: RecipientProblem): RowErrorCode {
  return problem === 'email' ? 'invalidEmail' : (`phone.${problem}` as const);
}

const EMPTY_MESSAGE: MessageError = { text: 'Message is empty', gc: BULK_MESSAGES.emptyMessage, code: 'empty' };

/** NUL characters: a spreadsheet saved in the wrong encoding is full of them, and PostgreSQL's text holds none. */
const NUL = /\0/g;

/** A cell as the checker reads it, and as the job reads it again when it sends: the same text both times. */
export function cleanCell(value: string | undefined): string {
  return value === undefined || value === '' ? '' : stripAndRemoveObscureWhitespace(value.replace(NUL, ''));
}

function headerKey(header: string): string {
  return normaliseKey(header.normalize('NFC'));
}

function plural(n: number, one: string, many: string): string {
  return `${n.toLocaleString('en')} ${n === 1 ? one : many}`;
}

interface PlaceholderColumn {
  name: string;
  /** Column index, or -1 when the recipient column fills it. */
  index: number;
}

interface Layout {
  recipientIndex: number;
  recipientHeader: string;
  placeholders: PlaceholderColumn[];
  referenceIndex: number;
  /** Trimmed headers by column index (for error messages). */
  headers: string[];
}

interface MessageError {
  /** For a person. */
  text: string;
  /** As GC Notify's bulk API words it. */
  gc: string;
  code: RowErrorCode;
  params?: Record<string, number>;
}

interface CellError {
  index: number;
  message: string;
  code: RowErrorCode;
  recipient: boolean;
}

export class RecipientListChecker {
  private readonly options: RecipientListOptions;
  private readonly placeholderNames: string[];
  private readonly region: CountryCode;
  private readonly maxRowsInMessage: number;
  private readonly maxRowErrors: number;

  private headerReport: HeaderReport | null = null;
  private layout: Layout | null = null;
  /** Rendering checks for a template without placeholders: the same for every row, so done once. */
  private constantMessageError: MessageError | null | undefined = undefined;

  private rows = 0;
  private simulated = 0;
  private readonly rowErrors: RowError[] = [];
  private rowErrorCount = 0;
  private rowsWithErrors = 0;
  private readonly apiRowErrors: string[] = [];
  private firstMessageError: string | null = null;
  private notAllowedCount = 0;
  private readonly notAllowedExamples: RowExample[] = [];
  private readonly seen = new SeenRecipients();
  private readonly repeated = new SeenRecipients(16);
  private duplicateRows = 0;
  private readonly duplicateExamples: RowExample[] = [];
  private finished: ListReport | null = null;

  constructor(options: RecipientListOptions) {
    this.options = options;
    this.placeholderNames = placeholderNames(...options.templateTexts);
    this.region = options.phoneRegion as CountryCode;
    this.maxRowsInMessage = options.maxRowsInMessage ?? 20;
    this.maxRowErrors = options.maxRowErrors ?? 1000;
  }

  get rowCount(): number {
    return this.rows;
  }

  /** Reads the header row: which column holds the recipient, which fill placeholders, what is missing. */
  header(cells: string[]): HeaderReport {
    if (this.headerReport) throw new Error('RecipientListChecker.header() was already called');
    const { templateType, language = 'en' } = this.options;
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
    for (const name of this.placeholderNames) {
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
    if (referenceColumns.length > 1 && !this.placeholderNames.some((name) => headerKey(name) === REFERENCE_KEY)) {
      duplicateSets.push(referenceColumns);
    }
    for (const index of referenceColumns) used.add(index);

    const duplicates = [...new Set(duplicateSets.flat().map((index) => headers[index]!))].sort();
    missing.sort();

    this.headerReport = {
      recipientColumn: recipientColumns.length > 0 ? headers[recipientColumns[0]!]! : null,
      placeholderColumns,
      referenceColumn: referenceColumns.length > 0 ? headers[referenceColumns[0]!]! : null,
      ignoredColumns: headers.filter((header, index) => header !== '' && !used.has(index)),
      missing,
      duplicates,
    };
    if (missing.length === 0 && duplicates.length === 0) {
      this.layout = {
        recipientIndex: recipientColumns[0]!,
        recipientHeader: headers[recipientColumns[0]!]!,
        placeholders,
        referenceIndex: referenceColumns.length > 0 ? referenceColumns[0]! : -1,
        headers,
      };
    }
    return this.headerReport;
  }

  /**
   * Checks one row under the headers. While the headers have problems rows are only counted (their errors would
   * be meaningless), and the row is returned with no recipient.
   */
  row(cells: string[]): CheckedRow {
    if (!this.headerReport) throw new Error('RecipientListChecker.header() must be called before row()');
    if (this.finished) throw new Error('RecipientListChecker.finish() was already called');
    const rowNumber = ++this.rows;
    const layout = this.layout;
    if (!layout) {
      return {
        rowNumber,
        recipient: '',
        normalisedRecipient: null,
        personalisation: {},
        reference: null,
        simulated: false,
        errors: [],
      };
    }

    const cellErrors: CellError[] = [];
    const recipient = cleanCell(cells[layout.recipientIndex]);
    let normalised: string | null = null;
    let simulated = false;
    if (recipient === '') {
      cellErrors.push({ index: layout.recipientIndex, message: MISSING, code: 'missing', recipient: true });
    } else {
      try {
        if (this.options.templateType === 'email') {
          normalised = validateEmailAddress(recipient).toLowerCase();
          simulated = isSimulatedRecipient('email', normalised);
        } else {
          const phone = validatePhoneNumber(recipient, { defaultRegion: this.region });
          simulated = isSimulatedRecipient('sms', phone.e164);
          if (phone.international && !simulated && !this.options.allowInternational) {
            cellErrors.push({
              index: layout.recipientIndex,
              message: INTERNATIONAL_ERROR,
              code: 'international',
              recipient: true,
            });
          } else {
            normalised = phone.e164;
          }
        }
      } catch (error) {
        if (!(error instanceof InvalidRecipientError)) throw error;
        cellErrors.push({
          index: layout.recipientIndex,
          message: error.message,
          code: recipientCode(error.problem),
          recipient: true,
        });
      }
    }

    const entries: Array<[string, string]> = [];
    let complete = true;
    for (const placeholder of layout.placeholders) {
      if (placeholder.index === -1) {
        entries.push([placeholder.name, recipient]);
        if (recipient === '') complete = false;
        continue;
      }
      const value = cleanCell(cells[placeholder.index]);
      entries.push([placeholder.name, value]);
      if (value === '') {
        complete = false;
        cellErrors.push({ index: placeholder.index, message: MISSING, code: 'missing', recipient: false });
      }
    }
    // fromEntries, not assignment: a placeholder called `__proto__` stays an ordinary key.
    const personalisation = Object.fromEntries(entries) as Record<string, string>;

    const messageError = complete ? this.messageError(personalisation, layout.placeholders.length === 0) : null;

    const reference = layout.referenceIndex === -1 ? '' : cleanCell(cells[layout.referenceIndex]);

    if (simulated) this.simulated++;
    if (this.options.allowedRecipients && !simulated) {
      const allowed = normalised !== null && this.options.allowedRecipients.has(normalised);
      if (!allowed) {
        this.notAllowedCount++;
        if (normalised !== null && this.notAllowedExamples.length < EXAMPLES) {
          this.notAllowedExamples.push({ row: rowNumber, recipient });
        }
      }
    }
    if (normalised !== null && this.seen.add(normalised)) {
      this.duplicateRows++;
      const firstRepeat = !this.repeated.add(normalised);
      if (firstRepeat && this.duplicateExamples.length < EXAMPLES) {
        this.duplicateExamples.push({ row: rowNumber, recipient });
      }
    }

    const errors = this.recordErrors(rowNumber, recipient, cellErrors, messageError, layout);
    return {
      rowNumber,
      recipient,
      normalisedRecipient: normalised,
      personalisation,
      reference: reference === '' ? null : reference,
      simulated,
      errors,
    };
  }

  /** What is wrong with the rendered message (for a person, and as GC Notify words it), or null. */
  private messageError(personalisation: Record<string, string>, constant: boolean): MessageError | null {
    if (constant && this.constantMessageError !== undefined) return this.constantMessageError;
    let error: MessageError | null = null;
    if (this.options.templateType === 'sms') {
      const sms = renderSms(this.options.templateContent, personalisation);
      if (sms.characterCount > SMS_CHARACTER_LIMIT) {
        error = {
          text: `Message is too long: ${sms.characterCount} characters (the limit is ${SMS_CHARACTER_LIMIT})`,
          gc: BULK_MESSAGES.smsTooLong,
          code: 'smsTooLong',
          params: { count: sms.characterCount, limit: SMS_CHARACTER_LIMIT },
        };
      } else if (sms.body.trim() === '') {
        error = EMPTY_MESSAGE;
      }
    } else {
      const body = renderEmailBody(this.options.templateContent, personalisation);
      if (body.trim() === '') {
        error = EMPTY_MESSAGE;
      } else if (body.length * 3 > EMAIL_SIZE_LIMIT_BYTES) {
        // A UTF-16 string of n units is at most 3n bytes: only bodies that could be too big are measured.
        const size = Buffer.byteLength(body, 'utf8');
        if (size > EMAIL_SIZE_LIMIT_BYTES) {
          error = {
            text: `Message is too long: ${size} bytes (the limit is ${EMAIL_SIZE_LIMIT_BYTES})`,
            // GC Notify has no such check; this is Envoi's single-send message.
            gc: `Your message is too long. Emails cannot be longer than ${EMAIL_SIZE_LIMIT_BYTES} bytes. Your message is ${size} bytes`,
            code: 'emailTooLong',
            params: { size, limit: EMAIL_SIZE_LIMIT_BYTES },
          };
        }
      }
    }
    if (constant) this.constantMessageError = error;
    return error;
  }

  private recordErrors(
    rowNumber: number,
    recipient: string,
    cellErrors: CellError[],
    messageError: MessageError | null,
    layout: Layout,
  ): string[] {
    if (cellErrors.length === 0 && messageError === null) return [];
    this.rowsWithErrors++;
    cellErrors.sort((a, b) => a.index - b.index);
    const errors: string[] = [];
    for (const error of cellErrors) {
      const column = layout.headers[error.index]!;
      errors.push(`column "${column}": ${error.message}`);
      this.keepRowError({ row: rowNumber, column, message: error.message, code: error.code });
    }
    if (messageError !== null) {
      errors.push(messageError.text);
      const { text: message, code, params } = messageError;
      this.keepRowError({ row: rowNumber, column: null, message, code, ...(params && { params }) });
    }

    if (cellErrors.length > 0 && this.apiRowErrors.length < this.maxRowsInMessage) {
      // GC Notify numbers these rows from 0 (its row index), lists cells in header order, joins them with a bare
      // comma, and calls every recipient problem other than a blank one "invalid recipient".
      const parts = cellErrors.map((error) => {
        const text = error.recipient && error.message !== MISSING ? 'invalid recipient' : error.message;
        return `\`${layout.headers[error.index]}\`: ${text}`;
      });
      this.apiRowErrors.push(`Row ${rowNumber - 1} - ${parts.join(',')}`);
    }
    if (messageError !== null && this.firstMessageError === null) {
      this.firstMessageError = BULK_MESSAGES.rowMessage(messageError.gc, recipient, rowNumber);
    }
    return errors;
  }

  private keepRowError(error: RowError): void {
    this.rowErrorCount++;
    if (this.rowErrors.length < this.maxRowErrors) this.rowErrors.push(error);
  }

  /** The verdict on the whole list. Call once, after the last row. */
  finish(): ListReport {
    if (this.finished) return this.finished;
    const { options } = this;
    const problems: ListProblem[] = [];
    const header = this.headerReport;
    const messageCount = this.rows - this.simulated;

    if (!header) {
      problems.push({ kind: 'no_rows', message: 'The file is empty.' });
    } else {
      if (header.missing.length > 0) {
        problems.push({ kind: 'missing_headers', message: BULK_MESSAGES.missingHeaders(header.missing) });
      }
      if (header.duplicates.length > 0) {
        problems.push({ kind: 'duplicate_headers', message: BULK_MESSAGES.duplicateHeaders(header.duplicates) });
      }
      if (this.rows === 0) {
        problems.push({
          kind: 'no_rows',
          message: 'The file has column headers but no rows of recipients under them.',
        });
      }
      if (options.remainingToday !== null && messageCount > options.remainingToday) {
        problems.push({
          kind: 'daily_limit',
          message: BULK_MESSAGES.dailyLimit(Math.max(0, options.remainingToday), messageCount),
        });
      }
      if (this.rows > options.maxRows) {
        problems.push({ kind: 'too_many_rows', message: BULK_MESSAGES.tooManyRows(options.maxRows) });
      }
      if (this.notAllowedCount > 0) {
        problems.push({
          kind: 'not_allowed',
          message: options.restrictionReason === 'team' ? BULK_MESSAGES.notAllowedTeam : BULK_MESSAGES.notAllowedTrial,
        });
      }
      if (this.apiRowErrors.length > 0) {
        problems.push({ kind: 'row_errors', message: BULK_MESSAGES.rowErrors(this.apiRowErrors) });
      }
      if (this.firstMessageError !== null) {
        problems.push({ kind: 'message_errors', message: this.firstMessageError });
      }
      if (
        options.templateType === 'sms' &&
        !options.allowMixedSimulated &&
        this.simulated > 0 &&
        this.simulated < this.rows
      ) {
        problems.push({ kind: 'mixed_simulated', message: BULK_MESSAGES.mixedSimulated });
      }
    }

    const warnings: string[] = [];
    const repeatedRecipients = this.repeated.size;
    if (repeatedRecipients > 0) {
      const who =
        repeatedRecipients === 1
          ? '1 recipient appears'
          : `${repeatedRecipients.toLocaleString('en')} recipients appear`;
      const rows =
        this.duplicateRows === repeatedRecipients
          ? ''
          : ` (${plural(this.duplicateRows, 'row repeats', 'rows repeat')} an earlier row)`;
      warnings.push(`${who} more than once in the list${rows}: they will get the message more than once.`);
    }

    const report: ListReport = {
      rowCount: this.rows,
      ok: problems.length === 0,
      problems,
      rowErrors: this.rowErrors,
      rowErrorCount: this.rowErrorCount,
      rowsWithErrors: this.rowsWithErrors,
      notAllowed: { count: this.notAllowedCount, examples: this.notAllowedExamples },
      duplicateRecipients: {
        count: this.duplicateRows,
        recipients: repeatedRecipients,
        examples: this.duplicateExamples,
      },
      simulatedCount: this.simulated,
      messageCount,
      warnings,
      summary: [],
    };
    report.summary = summarise(report);
    this.finished = report;
    return report;
  }
}

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
