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
  validateEmailAddress,
  validatePhoneNumber,
  type CountryCode,
  type RecipientProblem,
} from '../../platform/recipients.ts';
import { placeholderNames, renderEmailBody, renderSms, SMS_CHARACTER_LIMIT } from '../template-language/index.ts';
import { SeenRecipients } from './seen-recipients.ts';
import { cleanCell, type Layout, readHeaders } from './recipient-list-columns.ts';
import {
  type RecipientListOptions,
  type CheckedRow,
  type ListProblem,
  type RowErrorCode,
  type RowError,
  type RowExample,
  type HeaderReport,
  type ListReport,
  BULK_MESSAGES,
  summarise,
  plural,
} from './recipient-list-report.ts';

const MISSING = 'Missing';
const EMAIL_SIZE_LIMIT_BYTES = 2_000_000; // as src/notify/sending/send-rules.ts
const EXAMPLES = 10;

const INTERNATIONAL_ERROR = 'Cannot send to international mobile numbers';

/** The row error code of a recipient the validators refused. */
function recipientCode(problem: RecipientProblem): RowErrorCode {
  return problem === 'email' ? 'invalidEmail' : (`phone.${problem}` as const);
}

const EMPTY_MESSAGE: MessageError = { text: 'Message is empty', gc: BULK_MESSAGES.emptyMessage, code: 'empty' };

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

/** The row's personalisation, each placeholder from its column (the recipient's from the recipient cell). */
function personalisationOf(
  cells: string[],
  recipient: string,
  layout: Layout,
  cellErrors: CellError[],
): { personalisation: Record<string, string>; complete: boolean } {
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
  return { personalisation: Object.fromEntries(entries) as Record<string, string>, complete };
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
    const { report, layout } = readHeaders(cells, this.options, this.placeholderNames);
    this.headerReport = report;
    this.layout = layout;
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
    const { normalised, simulated } = this.checkRecipient(recipient, layout.recipientIndex, cellErrors);
    const { personalisation, complete } = personalisationOf(cells, recipient, layout, cellErrors);
    const messageError = complete ? this.messageError(personalisation, layout.placeholders.length === 0) : null;
    const reference = layout.referenceIndex === -1 ? '' : cleanCell(cells[layout.referenceIndex]);
    this.tally(rowNumber, recipient, normalised, simulated);

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

  /** The recipient cell: its canonical form (null when refused, with the reason in `cellErrors`) and whether it is a smoke-test recipient. */
  private checkRecipient(
    recipient: string,
    index: number,
    cellErrors: CellError[],
  ): { normalised: string | null; simulated: boolean } {
    if (recipient === '') {
      cellErrors.push({ index, message: MISSING, code: 'missing', recipient: true });
      return { normalised: null, simulated: false };
    }
    try {
      if (this.options.templateType === 'email') {
        const normalised = validateEmailAddress(recipient).toLowerCase();
        return { normalised, simulated: isSimulatedRecipient('email', normalised) };
      }
      const phone = validatePhoneNumber(recipient, { defaultRegion: this.region });
      const simulated = isSimulatedRecipient('sms', phone.e164);
      if (phone.international && !simulated && !this.options.allowInternational) {
        cellErrors.push({ index, message: INTERNATIONAL_ERROR, code: 'international', recipient: true });
        return { normalised: null, simulated };
      }
      return { normalised: phone.e164, simulated };
    } catch (error) {
      if (!(error instanceof InvalidRecipientError)) throw error;
      cellErrors.push({ index, message: error.message, code: recipientCode(error.problem), recipient: true });
      return { normalised: null, simulated: false };
    }
  }

  /** Counts the row toward the list's totals: smoke-test recipients, ones trial mode refuses, repeats. */
  private tally(rowNumber: number, recipient: string, normalised: string | null, simulated: boolean): void {
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
