import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { RecipientListChecker } from './recipient-list.ts';
import type { CheckedRow, RecipientListOptions } from './recipient-list-report.ts';
import { readRows } from './spreadsheet.ts';

const EMAIL: RecipientListOptions = {
  templateType: 'email',
  templateTexts: ['Subject', 'Hello!'],
  templateContent: 'Hello!',
  maxRows: 50_000,
  remainingToday: null,
  allowedRecipients: null,
  restrictionReason: null,
  phoneRegion: 'CA',
  allowInternational: false,
};

function emailTemplate(content: string, subject = 'Subject'): RecipientListOptions {
  return { ...EMAIL, templateTexts: [subject, content], templateContent: content };
}

function smsTemplate(content: string): RecipientListOptions {
  return { ...EMAIL, templateType: 'sms', templateTexts: [content], templateContent: content };
}

function check(options: RecipientListOptions, [header, ...rows]: string[][]) {
  const checker = new RecipientListChecker(options);
  const checked: CheckedRow[] = [];
  if (header) {
    checker.header(header);
    for (const row of rows) checked.push(checker.row(row));
  }
  return { report: checker.finish(), rows: checked, checker };
}

function messages(options: RecipientListOptions, rows: string[][]): string[] {
  return check(options, rows).report.problems.map((problem) => problem.message);
}

describe('column headers', () => {
  it.each([
    [emailTemplate('Hello!'), ['foo'], 'Missing column headers: email address'],
    [emailTemplate('Hello ((name))!'), ['foo'], 'Missing column headers: email address, name'],
    [smsTemplate('Hello ((name))!'), ['foo'], 'Missing column headers: name, phone number'],
    [smsTemplate('Hello ((name))!'), ['name'], 'Missing column headers: phone number'],
    [smsTemplate('Hello ((name))!'), ['NAME'], 'Missing column headers: phone number'],
    [
      emailTemplate('Hi ((First Name)), ((date))', '((Subject line))'),
      ['email address'],
      'Missing column headers: First Name, Subject line, date',
    ],
    [{ ...emailTemplate('Hello!'), language: 'fr' as const }, ['foo'], 'Missing column headers: adresse courriel'],
    [{ ...smsTemplate('Hi'), language: 'fr' as const }, ['foo'], 'Missing column headers: numéro de téléphone'],
  ])('reports missing headers exactly as GC Notify (%#)', (options, header, message) => {
    expect(messages(options, [header, ['bar']])).toEqual([message]);
  });

  it.each([
    [emailTemplate('Hello!'), ['email address', 'email address'], 'Duplicate column headers: email address'],
    [
      emailTemplate('Hello ((name))!'),
      ['email address', 'email_address', 'name'],
      'Duplicate column headers: email address, email_address',
    ],
    [smsTemplate('Hello!'), ['phone number', 'phone number'], 'Duplicate column headers: phone number'],
    [smsTemplate('Hello!'), ['phone number', 'phone_number'], 'Duplicate column headers: phone number, phone_number'],
    [
      smsTemplate('Hello ((name))!'),
      ['phone number', 'phone_number', 'name'],
      'Duplicate column headers: phone number, phone_number',
    ],
    [
      emailTemplate('Hello!'),
      ['email address', 'Adresse courriel'],
      'Duplicate column headers: Adresse courriel, email address',
    ],
    [emailTemplate('Hello ((name))!'), ['email address', 'name', 'NAME'], 'Duplicate column headers: NAME, name'],
    [
      emailTemplate('Hello!'),
      ['email address', 'reference', 'Reference'],
      'Duplicate column headers: Reference, reference',
    ],
  ])('reports duplicate headers exactly as GC Notify (%#)', (options, header, message) => {
    expect(messages(options, [header, ['bar@example.com', 'x', 'y']])).toEqual([message]);
  });

  it.each([
    ['email address'],
    ['Email Address'],
    ['EMAIL_ADDRESS'],
    ['email-address'],
    ['  emailaddress  '],
    ['adresse courriel'],
    ['Adresse_Courriel'],
    ['\uFEFFemail address'],
  ])('finds the email column headed %j', (heading) => {
    const { report, rows } = check(EMAIL, [[heading], ['a@example.com']]);
    expect(report.ok).toBe(true);
    expect(rows[0]!.recipient).toBe('a@example.com');
  });

  it.each([
    ['phone number'],
    ['Phone_Number'],
    ['numéro de téléphone'],
    ['NUMÉRO DE TÉLÉPHONE'],
    ['nume\u0301ro de te\u0301le\u0301phone'],
  ])('finds the phone column headed %j', (heading) => {
    const { report, rows } = check(smsTemplate('Hi'), [[heading], ['604 555 1234']]);
    expect(report.ok).toBe(true);
    expect(rows[0]!.normalisedRecipient).toBe('+16045551234');
  });

  it('matches placeholders to columns ignoring case, spaces, underscores and hyphens, and ignores other columns', () => {
    const options = emailTemplate('Dear ((First Name)) ((last-name)), see you ((DAY))', 'About ((topic))');
    const { report, rows, checker } = check(options, [
      ['notes', 'EMAIL ADDRESS', 'first_name', 'LastName', 'day', 'Topic', 'internal id', ''],
      ['ignore me', 'a@example.com', 'Ann', 'Lee', 'Monday', 'Tea', '42', 'stray'],
    ]);
    expect(report.ok).toBe(true);
    expect(rows[0]!.personalisation).toEqual({ 'First Name': 'Ann', 'last-name': 'Lee', DAY: 'Monday', topic: 'Tea' });
    const header = checker.header.bind(checker);
    expect(() => header(['email address'])).toThrow('already called');
  });

  it('describes the columns it found', () => {
    const checker = new RecipientListChecker(emailTemplate('Hi ((name))'));
    expect(checker.header(['Email Address', 'Name', 'Reference', 'Notes'])).toEqual({
      recipientColumn: 'Email Address',
      placeholderColumns: { name: 'Name' },
      referenceColumn: 'Reference',
      ignoredColumns: ['Notes'],
      missing: [],
      duplicates: [],
    });
  });

  it('lets the recipient column fill a placeholder of the same name', () => {
    const { report, rows } = check(emailTemplate('This was sent to ((email address))'), [
      ['Email Address'],
      ['a@example.com'],
    ]);
    expect(report.ok).toBe(true);
    expect(rows[0]!.personalisation).toEqual({ 'email address': 'a@example.com' });
  });
});

describe('rows', () => {
  it('gives each row its number, recipient, values and reference, trimmed as Notify trims them', () => {
    const { rows } = check(emailTemplate('Hi ((name))'), [
      ['email address', 'name', 'reference'],
      ['  A@Example.com ', '\u200BAnn\u00A0 ', ' ref-1 '],
      ['b@example.com', 'Bob'],
    ]);
    expect(rows).toEqual([
      {
        rowNumber: 1,
        recipient: 'A@Example.com',
        normalisedRecipient: 'a@example.com',
        personalisation: { name: 'Ann' },
        reference: 'ref-1',
        simulated: false,
        errors: [],
      },
      {
        rowNumber: 2,
        recipient: 'b@example.com',
        normalisedRecipient: 'b@example.com',
        personalisation: { name: 'Bob' },
        reference: null,
        simulated: false,
        errors: [],
      },
    ]);
  });

  it('keeps a placeholder called __proto__ as an ordinary value', () => {
    const { rows } = check(emailTemplate('((__proto__))'), [
      ['email address', '__proto__'],
      ['a@example.com', 'x'],
    ]);
    expect(Object.keys(rows[0]!.personalisation)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(rows[0]!.personalisation)).toBe(Object.prototype);
  });

  it('reports row errors exactly as GC Notify (its rows counted from 0) and for people (from 1)', () => {
    const { report, rows } = check(emailTemplate('Hello ((name))'), [
      ['email address', 'name'],
      ['foo@example.com', 'Foo'],
      ['bar@example.com'],
      ['nope', 'nope'],
      ['baz@example.com', ''],
      ['baz@example.com', ' '],
    ]);
    expect(report.problems).toEqual([
      {
        kind: 'row_errors',
        message:
          'Some rows have errors. Row 1 - `name`: Missing. Row 2 - `email address`: invalid recipient. Row 3 - `name`: Missing. Row 4 - `name`: Missing.',
      },
    ]);
    expect(rows.map((row) => row.errors)).toEqual([
      [],
      ['column "name": Missing'],
      ['column "email address": Not a valid email address'],
      ['column "name": Missing'],
      ['column "name": Missing'],
    ]);
    expect(report.rowErrors).toEqual([
      { row: 2, column: 'name', message: 'Missing', code: 'missing' },
      { row: 3, column: 'email address', message: 'Not a valid email address', code: 'invalidEmail' },
      { row: 4, column: 'name', message: 'Missing', code: 'missing' },
      { row: 5, column: 'name', message: 'Missing', code: 'missing' },
    ]);
    expect(report.summary).toEqual([
      '4 rows have errors (4 errors):',
      'Row 2, column "name": Missing',
      'Row 3, column "email address": Not a valid email address',
      'Row 4, column "name": Missing',
      'Row 5, column "name": Missing',
      'Warning: 1 recipient appears more than once in the list: they will get the message more than once.',
    ]);
  });

  it('lists a row’s cells in column order, joined by a bare comma, and a blank recipient as Missing', () => {
    const options = smsTemplate('((a)) ((b))');
    expect(
      messages(options, [
        ['b', 'phone number', 'a'],
        ['', 'call me', ''],
        ['x', '', 'y'],
      ]),
    ).toEqual([
      'Some rows have errors. Row 0 - `b`: Missing,`phone number`: invalid recipient,`a`: Missing. Row 1 - `phone number`: Missing.',
    ]);
  });

  it('gives the reason a phone number is wrong, in the legacy words', () => {
    const { report } = check(smsTemplate('Hi'), [
      ['phone number'],
      ['604 555 1234'],
      ['613 253'],
      ['613-ABC-2222'],
      ['+1 613 253 2222 0'],
      ['+44 7911 123456'],
      ['911'],
    ]);
    expect(report.summary.slice(0, 6)).toEqual([
      '5 rows have errors (5 errors):',
      'Row 2, column "phone number": Not enough digits',
      'Row 3, column "phone number": Must not contain letters or symbols',
      'Row 4, column "phone number": Too many digits',
      'Row 5, column "phone number": Cannot send to international mobile numbers',
      'Row 6, column "phone number": Phone number cannot be an emergency number',
    ]);
  });

  it('gives each row error a code and its numbers, for a UI to word in its own language', () => {
    const sms = check(smsTemplate('((a))'), [
      ['phone number', 'a'],
      ['604 555 1234', ''],
      ['613 253', 'x'],
      ['613-ABC-2222', 'x'],
      ['+1 613 253 2222 0', 'x'],
      ['+44 7911 123456', 'x'],
      ['911', 'x'],
      ['604 555 1235', 'y'.repeat(700)],
      ['604 555 1236', ' '],
    ]).report;
    expect(sms.rowErrors.map(({ row, code, params }) => ({ row, code, params }))).toEqual([
      { row: 1, code: 'missing', params: undefined },
      { row: 2, code: 'phone.tooShort', params: undefined },
      { row: 3, code: 'phone.badCharacter', params: undefined },
      { row: 4, code: 'phone.tooLong', params: undefined },
      { row: 5, code: 'international', params: undefined },
      { row: 6, code: 'phone.emergency', params: undefined },
      { row: 7, code: 'smsTooLong', params: { count: 700, limit: 612 } },
      { row: 8, code: 'missing', params: undefined },
    ]);
    // The English words are unchanged: the CLI and the API show them.
    expect(sms.rowErrors[6]!.message).toBe('Message is too long: 700 characters (the limit is 612)');

    const email = check(emailTemplate('((body))'), [
      ['email address', 'body'],
      ['a@example.com', 'z'.repeat(2_000_001)],
      ['b@example.com', '((x))'],
    ]).report;
    expect(email.rowErrors).toEqual([
      {
        row: 1,
        column: null,
        message: 'Message is too long: 2000001 bytes (the limit is 2000000)',
        code: 'emailTooLong',
        params: { size: 2_000_001, limit: 2_000_000 },
      },
    ]);
    const empty = check(emailTemplate('((show??You are invited))'), [
      ['email address', 'show'],
      ['b@example.com', 'no'],
    ]).report;
    expect(empty.rowErrors).toEqual([{ row: 1, column: null, message: 'Message is empty', code: 'empty' }]);
  });

  it('accepts international numbers when the service may text them', () => {
    const { report, rows } = check({ ...smsTemplate('Hi'), allowInternational: true }, [
      ['phone number'],
      ['+44 7911 123456'],
    ]);
    expect(report.ok).toBe(true);
    expect(rows[0]!.normalisedRecipient).toBe('+447911123456');
  });

  it('caps the rows in the API message at 20 and the kept errors at maxRowErrors, counting them all', () => {
    const rows = [['email address'], ...Array.from({ length: 30 }, (_, i) => [`bad${i}`])];
    const { report } = check({ ...EMAIL, maxRowErrors: 5 }, rows);
    const message = report.problems[0]!.message;
    expect(message.match(/Row \d+ - /g)).toHaveLength(20);
    expect(message.endsWith('Row 19 - `email address`: invalid recipient.')).toBe(true);
    expect(report.rowErrors).toHaveLength(5);
    expect(report.rowErrorCount).toBe(30);
    expect(report.rowsWithErrors).toBe(30);
    expect(report.summary.at(-1)).toBe('…and 25 more errors');
  });

  it('checks each text message’s length after filling in the row’s values', () => {
    const options = smsTemplate('Hello ((name)), ((details))');
    const { report, rows } = check(options, [
      ['phone number', 'name', 'details'],
      ['604 555 1234', 'Ann', 'x'.repeat(590)],
      ['604 555 1235', 'Bob', 'x'.repeat(604)],
    ]);
    expect(rows[0]!.errors).toEqual([]);
    expect(rows[1]!.errors).toEqual(['Message is too long: 615 characters (the limit is 612)']);
    expect(report.problems).toEqual([
      {
        kind: 'message_errors',
        message:
          'Content for template has a character count greater than the limit of 612. Notification to 604 555 1235 on row #2 exceeds the maximum size limit.',
      },
    ]);
    expect(report.summary[1]).toBe('Row 2: Message is too long: 615 characters (the limit is 612)');
  });

  it('refuses a message that renders empty', () => {
    const { report, rows } = check(emailTemplate('((show??You are invited))'), [
      ['email address', 'show'],
      ['a@example.com', 'yes'],
      ['b@example.com', 'no'],
    ]);
    expect(rows.map((row) => row.errors)).toEqual([[], ['Message is empty']]);
    expect(report.problems.map((p) => p.message)).toEqual([
      'Message is empty or just whitespace. Notification to b@example.com on row #2 exceeds the maximum size limit.',
    ]);
  });

  it('checks a template without placeholders once, not once a row', () => {
    const long = smsTemplate('x'.repeat(700));
    const { report } = check(long, [['phone number'], ['604 555 1234'], ['604 555 1235']]);
    expect(report.rowErrorCount).toBe(2);
    expect(report.problems[0]!.kind).toBe('message_errors');
  });

  it('only counts rows while the headers are wrong', () => {
    const { report, rows } = check(emailTemplate('Hi ((name))'), [['email address'], ['nope'], ['a@example.com']]);
    expect(report.rowCount).toBe(2);
    expect(report.problems.map((p) => p.kind)).toEqual(['missing_headers']);
    expect(rows[0]!.errors).toEqual([]);
    expect(rows[0]!.normalisedRecipient).toBeNull();
  });
});

describe('limits and restrictions', () => {
  const list = [['email address'], ['foo@example.com'], ['bar@example.com']];

  it('refuses more rows than allowed', () => {
    expect(messages({ ...EMAIL, maxRows: 1 }, list)).toEqual(['Too many rows. Maximum number of rows allowed is 1']);
    expect(check({ ...EMAIL, maxRows: 2 }, list).report.ok).toBe(true);
  });

  it('refuses more messages than the daily limit leaves', () => {
    expect(messages({ ...EMAIL, remainingToday: 1 }, list)).toEqual([
      "You only have 1 remaining messages before you reach your daily limit. You've tried to send 2 messages.",
    ]);
    expect(messages({ ...EMAIL, remainingToday: -5 }, list)).toEqual([
      "You only have 0 remaining messages before you reach your daily limit. You've tried to send 2 messages.",
    ]);
    expect(check({ ...EMAIL, remainingToday: 2 }, list).report.ok).toBe(true);
  });

  it('does not count simulated recipients against the daily limit', () => {
    const { report } = check({ ...EMAIL, remainingToday: 1 }, [
      ['email address'],
      ['foo@example.com'],
      ['simulate-delivered@notification.canada.ca'],
    ]);
    expect(report.ok).toBe(true);
    expect(report.simulatedCount).toBe(1);
    expect(report.messageCount).toBe(1);
  });

  it('refuses recipients outside the team and safelist for a team key', () => {
    const options = { ...EMAIL, allowedRecipients: new Set(['foo@example.com']), restrictionReason: 'team' as const };
    const { report } = check(options, list);
    expect(report.problems).toEqual([
      {
        kind: 'not_allowed',
        message: 'You cannot send to these recipients because you used a team and safelist API key.',
      },
    ]);
    expect(report.notAllowed).toEqual({ count: 1, examples: [{ row: 2, recipient: 'bar@example.com' }] });
    expect(report.summary).toEqual([
      'You cannot send to these recipients because you used a team and safelist API key. (1 row)',
      'Row 2: bar@example.com is not a member of your team or on your safelist',
    ]);
  });

  it('refuses recipients outside the team and safelist in trial mode, matching them by their normal form', () => {
    const options = {
      ...smsTemplate('Hi'),
      allowedRecipients: new Set(['+16045551234']),
      restrictionReason: 'trial' as const,
    };
    expect(check(options, [['phone number'], ['(604) 555-1234'], ['+1 604 555 1234']]).report.ok).toBe(true);
    expect(messages(options, [['phone number'], ['604 555 1234'], ['604 555 1235']])).toEqual([
      'You cannot send to these recipients because your service is in trial mode. You can only send to members of your team and your safelist.',
    ]);
  });

  it('always allows simulated recipients, and counts an invalid one as not allowed (as GC does)', () => {
    const options = { ...EMAIL, allowedRecipients: new Set(['foo@example.com']), restrictionReason: 'trial' as const };
    expect(
      check(options, [['email address'], ['FOO@example.com'], ['simulate-delivered@notifications.service.gov.uk']])
        .report.ok,
    ).toBe(true);
    expect(
      check(options, [['email address'], ['foo@example.com'], ['nope']]).report.problems.map((p) => p.kind),
    ).toEqual(['not_allowed', 'row_errors']);
  });

  it('refuses a text message list mixing simulated and real numbers, unless told to allow it', () => {
    const rows = [['phone number'], ['6132532222'], ['604 555 1234']];
    expect(messages(smsTemplate('Hi'), rows)).toEqual([
      'Bulk sending to testing and non-testing numbers is not supported',
    ]);
    expect(check({ ...smsTemplate('Hi'), allowMixedSimulated: true }, rows).report.ok).toBe(true);
    expect(check(smsTemplate('Hi'), [['phone number'], ['6132532222'], ['+16132532223']]).report.ok).toBe(true);
    expect(check(smsTemplate('Hi'), [['phone number'], ['07700900000']]).rows[0]!.simulated).toBe(true);
  });

  it('lists problems in the order GC Notify checks them', () => {
    const options = {
      ...smsTemplate('Hi ((name))'),
      maxRows: 1,
      remainingToday: 0,
      allowedRecipients: new Set<string>(),
      restrictionReason: 'trial' as const,
    };
    const { report } = check(options, [
      ['phone number', 'name'],
      ['6132532222', 'Sim'],
      ['604 555 1234', ''],
      ['604 555 1235', 'x'.repeat(700)],
    ]);
    expect(report.problems.map((p) => p.kind)).toEqual([
      'daily_limit',
      'too_many_rows',
      'not_allowed',
      'row_errors',
      'message_errors',
      'mixed_simulated',
    ]);
    expect(report.ok).toBe(false);
  });
});

describe('duplicates, empty lists', () => {
  it('warns about repeated recipients, compared in their normal form, without refusing the list', () => {
    const { report } = check(emailTemplate('Hi'), [
      ['email address'],
      ['a@example.com'],
      ['A@EXAMPLE.COM'],
      ['b@example.com'],
      [' a@example.com'],
      ['b@example.com'],
      ['c@example.com'],
    ]);
    expect(report.ok).toBe(true);
    expect(report.duplicateRecipients).toEqual({
      count: 3,
      recipients: 2,
      examples: [
        { row: 2, recipient: 'A@EXAMPLE.COM' },
        { row: 5, recipient: 'b@example.com' },
      ],
    });
    expect(report.warnings).toEqual([
      '2 recipients appear more than once in the list (3 rows repeat an earlier row): they will get the message more than once.',
    ]);

    const phones = check(smsTemplate('Hi'), [['phone number'], ['604 555 1234'], ['+1 (604) 555-1234']]).report;
    expect(phones.duplicateRecipients.count).toBe(1);
    expect(phones.warnings).toEqual([
      '1 recipient appears more than once in the list: they will get the message more than once.',
    ]);
  });

  it('explains an empty file and a file with headers only', () => {
    expect(check(EMAIL, []).report.problems).toEqual([{ kind: 'no_rows', message: 'The file is empty.' }]);
    expect(check(EMAIL, [['email address']]).report.problems).toEqual([
      { kind: 'no_rows', message: 'The file has column headers but no rows of recipients under them.' },
    ]);
    expect(messages(emailTemplate('((name))'), [['foo']])).toEqual([
      'Missing column headers: email address, name',
      'The file has column headers but no rows of recipients under them.',
    ]);
  });

  it('refuses rows before the header, and rows after finish()', () => {
    const checker = new RecipientListChecker(EMAIL);
    expect(() => checker.row(['a@example.com'])).toThrow('header() must be called');
    checker.header(['email address']);
    checker.finish();
    expect(() => checker.row(['a@example.com'])).toThrow('finish() was already called');
  });
});

describe('readRows and the checker together', () => {
  it('checks a hostile but well-formed file: formulas are data, long cells are values', async () => {
    const csv = [
      'Email Address,Name,Notes',
      'a@example.com,"=HYPERLINK(""http://x"",""y"")",@SUM(A1)',
      `b@example.com,${'y'.repeat(100_000)},`,
    ].join('\r\n');
    const checker = new RecipientListChecker(emailTemplate('Hi ((name))'));
    const rows: CheckedRow[] = [];
    let first = true;
    for await (const cells of readRows(csv, 'csv')) {
      if (first) checker.header(cells);
      else rows.push(checker.row(cells));
      first = false;
    }
    expect(checker.finish().ok).toBe(true);
    expect(rows[0]!.personalisation.name).toBe('=HYPERLINK("http://x","y")');
    expect(rows[1]!.personalisation.name).toHaveLength(100_000);
  });

  it('streams a million rows through with the right counts', { timeout: 300_000 }, async () => {
    const total = 1_000_000;
    const batch = 5_000;
    // Every 100,000th row repeats row 1's address; every 250,000th has no name.
    async function* generate() {
      yield Buffer.from('\uFEFFemail address,name,reference\r\n');
      for (let start = 1; start <= total; start += batch) {
        let text = '';
        for (let n = start; n < start + batch; n++) {
          const address = n % 100_000 === 0 ? 'person1@example.com' : `person${n}@example.com`;
          const name = n % 250_000 === 0 ? '' : `Person ${n}`;
          text += `${address},${name},ref-${n}\r\n`;
        }
        yield Buffer.from(text);
      }
    }
    const checker = new RecipientListChecker({ ...emailTemplate('Hello ((name))'), maxRows: total });
    let first = true;
    let withReference = 0;
    for await (const cells of readRows(Readable.from(generate()), 'csv')) {
      if (first) {
        checker.header(cells);
        first = false;
        continue;
      }
      const row = checker.row(cells);
      if (row.reference !== null) withReference++;
    }
    const report = checker.finish();
    expect(report.rowCount).toBe(total);
    expect(withReference).toBe(total);
    expect(report.rowsWithErrors).toBe(4);
    expect(report.rowErrors.map((e) => e.row)).toEqual([250_000, 500_000, 750_000, 1_000_000]);
    expect(report.duplicateRecipients).toMatchObject({ count: 10, recipients: 1 });
    expect(report.problems.map((p) => p.message)).toEqual([
      'Some rows have errors. Row 249999 - `name`: Missing. Row 499999 - `name`: Missing. Row 749999 - `name`: Missing. Row 999999 - `name`: Missing.',
    ]);
  });
});
