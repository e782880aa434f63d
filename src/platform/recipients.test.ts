import { describe, expect, it } from 'vitest';
import {
  InvalidRecipientError,
  isSimulatedRecipient,
  normaliseEmail,
  normaliseRecipient,
  testKeyOutcome,
  validateEmailAddress,
  validatePhoneNumber,
} from './recipients.ts';

const CA = { defaultRegion: 'CA' } as const;
const GB = { defaultRegion: 'GB' } as const;

function errorOf(fn: () => unknown): InvalidRecipientError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InvalidRecipientError) return error;
    throw error;
  }
  throw new Error('expected an InvalidRecipientError');
}

describe('validateEmailAddress', () => {
  it.each([
    'test@example.com',
    "Firstname.O'Surname@Example.CO.UK",
    "!#$%&'*+/=?^_`{|}~-@example.com",
    'user+tag@sub.domain.example.gc.ca',
    'someone@xn--mnchen-3ya.de',
    'someone@münchen.de',
    'email@例え.テスト',
    'a@double--hyphen.com',
    'temp-fail@simulator.notify',
  ])('accepts %s', (address) => {
    expect(validateEmailAddress(address)).toBe(address);
  });

  it('trims ordinary and invisible whitespace but keeps the case the user typed', () => {
    expect(validateEmailAddress('  \u200BJane.Doe@Example.com\u00A0\n')).toBe('Jane.Doe@Example.com');
  });

  it.each([
    ['no at sign', 'example.com'],
    ['two at signs', 'a@b@example.com'],
    ['empty local part', '@example.com'],
    ['space inside', 'jane doe@example.com'],
    ['space in the domain', 'jane@exam ple.com'],
    ['quotes in the local part', '"jane"@example.com'],
    ['semicolon', 'jane;doe@example.com'],
    ['consecutive dots in the local part', 'jane..doe@example.com'],
    ['consecutive dots in the domain', 'jane@example..com'],
    ['domain starting with a dot', 'jane@.example.com'],
    ['trailing dot', 'jane@example.com.'],
    ['no top-level domain', 'jane@localhost'],
    ['one-letter TLD', 'jane@example.c'],
    ['numeric TLD', 'jane@example.123'],
    ['TLD with a digit', 'jane@example.c0m'],
    ['label starting with a hyphen', 'jane@-example.com'],
    ['label ending with a hyphen', 'jane@example-.com'],
    ['triple hyphen', 'jane@ex---ample.com'],
    ['underscore in the domain', 'jane@ex_ample.com'],
    ['percent-encoding in the domain', 'jane@ex%41mple.com'],
    ['backslash in the domain', 'jane@example\\.com'],
    ['label over 63 characters', `jane@${'a'.repeat(64)}.com`],
    ['non-ASCII local part', 'jöse@example.com'],
    ['empty string', ''],
  ])('rejects %s', (_, address) => {
    const error = errorOf(() => validateEmailAddress(address));
    expect(error.message).toBe('Not a valid email address');
    expect(error.field).toBe('email_address');
  });

  it('accepts 320 characters and rejects 321', () => {
    const domain = `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.com`; // 248 chars
    const local320 = 'x'.repeat(320 - 1 - domain.length);
    expect(validateEmailAddress(`${local320}@${domain}`)).toHaveLength(320);
    expect(errorOf(() => validateEmailAddress(`y${local320}@${domain}`)).message).toBe('Not a valid email address');
  });

  it('limits the domain to 253 characters as punycode, not as typed', () => {
    const label = '例え日本語の試験用文字列漢字'; // 14 characters, 49 once converted
    const domainOf = (labels: number) => `${Array.from({ length: labels }, () => label).join('.')}.com`;
    expect(validateEmailAddress(`a@${domainOf(5)}`)).toBe(`a@${domainOf(5)}`); // 253 as punycode
    expect(errorOf(() => validateEmailAddress(`a@${domainOf(6)}`)).message).toBe('Not a valid email address'); // 303
  });
});

describe('normaliseEmail and normaliseRecipient(email)', () => {
  it('lower-cases for comparison', () => {
    expect(normaliseEmail(' Jane.Doe@Example.COM ')).toBe('jane.doe@example.com');
    expect(normaliseRecipient('email', 'Jane.Doe@Example.COM')).toBe('jane.doe@example.com');
  });

  it('refuses to normalise an invalid address', () => {
    expect(() => normaliseRecipient('email', 'not an email')).toThrow('Not a valid email address');
  });
});

describe('validatePhoneNumber: Canada (default region)', () => {
  it.each([
    '6132532222',
    '613-253-2222',
    '(613) 253-2222',
    '613.253.2222',
    '1 613 253 2222',
    '+1 (613) 253-2222',
    '  +16132532222\u200B ',
  ])('reads %s as a domestic Canadian number', (raw) => {
    expect(validatePhoneNumber(raw, CA)).toEqual({
      e164: '+16132532222',
      international: false,
      countryCode: '1',
      region: 'CA',
    });
  });

  it('treats US numbers as domestic in a Canadian deployment (same calling code)', () => {
    expect(validatePhoneNumber('+1 415 555 2671', CA)).toMatchObject({ e164: '+14155552671', international: false });
  });

  it('defaults to Canada when no region is given', () => {
    expect(validatePhoneNumber('604 555 1234').e164).toBe('+16045551234');
  });

  it('marks UK and French numbers as international', () => {
    expect(validatePhoneNumber('+44 7911 123456', CA)).toMatchObject({
      e164: '+447911123456',
      international: true,
      countryCode: '44',
    });
    expect(validatePhoneNumber('+33 6 12 34 56 78', CA)).toMatchObject({
      e164: '+33612345678',
      international: true,
      countryCode: '33',
      region: 'FR',
    });
  });

  it('understands the North American international prefix 011', () => {
    expect(validatePhoneNumber('011 33 6 12 34 56 78', CA).e164).toBe('+33612345678');
  });

  it('recovers a + that a spreadsheet dropped, and stray leading characters', () => {
    expect(validatePhoneNumber('447911123456', CA).e164).toBe('+447911123456');
    expect(validatePhoneNumber('0+447911123456', CA).e164).toBe('+447911123456');
  });

  it('accepts UK landlines written with the (0) trunk prefix', () => {
    expect(validatePhoneNumber('+44 (0)20 7946 0000', CA).e164).toBe('+442079460000');
  });
});

describe('validatePhoneNumber: UK deployment', () => {
  it('accepts UK local formats and treats them as domestic', () => {
    expect(validatePhoneNumber('07700900123', GB)).toMatchObject({ e164: '+447700900123', international: false });
    expect(validatePhoneNumber('07911 123 456', GB)).toMatchObject({ e164: '+447911123456', international: false });
    expect(validatePhoneNumber('020 7946 0000', GB).e164).toBe('+442079460000');
  });

  it('marks Canadian numbers as international', () => {
    expect(validatePhoneNumber('+1 613 253 2222', GB)).toMatchObject({ international: true, countryCode: '1' });
  });

  it('does not read a UK local number as UK in a Canadian deployment', () => {
    expect(() => validatePhoneNumber('07911 123 456', CA)).toThrow(InvalidRecipientError);
  });
});

describe('validatePhoneNumber: legacy v2 error messages', () => {
  it.each([
    ['Too many digits', '+1 613 253 2222 0', CA],
    ['Too many digits', '613253222212345', CA],
    ['Too many digits', '+44 7911 1234567890', CA],
    ['Not enough digits', '123', CA],
    ['Not enough digits', '613 253', CA],
    ['Not enough digits', '+44 7911', CA],
    ['Not enough digits', '', CA],
    ['Not enough digits', '+', CA],
    ['Not enough digits', '( )', CA],
    ['Must not contain letters or symbols', '613-ABC-2222', CA],
    ['Must not contain letters or symbols', '1-800-FLOWERS', CA],
    ['Must not contain letters or symbols', '613#2532222', CA],
    ['Must not contain letters or symbols', '613/253/2222', CA],
    ['Must not contain letters or symbols', '613–253–2222', CA], // en dashes pasted from a word processor
    ['Not a valid country prefix', '+999 123 4567', CA],
    ['Not a valid country prefix', '+0 613 253 2222', GB],
    ['Number is not valid – double check the phone number you entered', '555 555 5555', CA],
    ['Number is not valid – double check the phone number you entered', '+44 1632 960000', CA],
    ['Number is not valid – double check the phone number you entered', '1 800 555 1234', CA], // toll-free
    ['Number is not valid – double check the phone number you entered', '1 900 555 1234', CA], // premium rate
    ['Phone number cannot be an emergency number', '911', CA],
    ['Phone number cannot be an emergency number', '9-1-1', CA],
    ['Phone number cannot be an emergency number', '+1 911', GB],
    ['Phone number cannot be an emergency number', '999', GB],
    ['Phone number cannot be an emergency number', '112', GB],
  ] as const)('%s: %s', (message, raw, opts) => {
    const error = errorOf(() => validatePhoneNumber(raw, opts));
    expect(error.message).toBe(message);
    expect(error.field).toBe('phone_number');
  });

  it('uses an en dash (U+2013) in the invalid-number message', () => {
    expect(errorOf(() => validatePhoneNumber('555 555 5555', CA)).message).toContain('\u2013');
  });
});

describe('normaliseRecipient(sms)', () => {
  it('gives E.164 so that differently written numbers compare equal', () => {
    expect(normaliseRecipient('sms', '(613) 253-2222')).toBe(normaliseRecipient('sms', '+1 613 253 2222'));
    expect(normaliseRecipient('sms', '07700 900123', GB)).toBe('+447700900123');
  });
});

describe('simulated (smoke test) recipients', () => {
  it.each([
    'simulate-delivered@notifications.service.gov.uk',
    'simulate-delivered-2@notifications.service.gov.uk',
    'Simulate-Delivered-3@Notifications.Service.Gov.UK',
    'simulate-delivered@notification.canada.ca',
    'simulate-delivered-2@notification.canada.ca',
    ' simulate-delivered-3@notification.canada.ca ',
  ])('recognises email %s', (address) => {
    expect(isSimulatedRecipient('email', address)).toBe(true);
  });

  it.each([
    '+447700900000',
    '07700900111',
    '07700 900 222',
    '+44 7700 900000',
    '+16132532222',
    '613-253-2223',
    '1 (613) 253-2224',
  ])('recognises phone %s in any deployment', (raw) => {
    expect(isSimulatedRecipient('sms', raw)).toBe(true);
  });

  it('does not treat real recipients as simulated', () => {
    expect(isSimulatedRecipient('email', 'simulate-delivered-4@notifications.service.gov.uk')).toBe(false);
    expect(isSimulatedRecipient('email', 'simulate-delivered@example.com')).toBe(false);
    expect(isSimulatedRecipient('sms', '+447700900001')).toBe(false);
    expect(isSimulatedRecipient('sms', '613 253 2225')).toBe(false);
    expect(isSimulatedRecipient('sms', 'not a number')).toBe(false);
  });

  it('validates the UK simulated numbers even in a Canadian deployment', () => {
    expect(validatePhoneNumber('07700900000', CA).e164).toBe('+447700900000');
  });
});

describe('testKeyOutcome', () => {
  it.each([
    ['sms', '07700900003', 'temporary-failure'],
    ['sms', '+44 7700 900003', 'temporary-failure'],
    ['sms', '07700900002', 'permanent-failure'],
    ['sms', '+447700900002', 'permanent-failure'],
    ['sms', '+15149301633', 'temporary-failure'],
    ['sms', '514-930-1633', 'temporary-failure'],
    ['sms', '+15149301632', 'permanent-failure'],
    ['sms', '(514) 930-1632', 'permanent-failure'],
    ['sms', '6132532222', 'delivered'],
    ['sms', '07700900004', 'delivered'],
    ['email', 'temp-fail@simulator.notify', 'temporary-failure'],
    ['email', 'Temp-Fail@Simulator.Notify', 'temporary-failure'],
    ['email', 'perm-fail@simulator.notify', 'permanent-failure'],
    ['email', 'someone@example.com', 'delivered'],
  ] as const)('%s %s → %s', (type, raw, outcome) => {
    expect(testKeyOutcome(type, raw)).toBe(outcome);
  });

  it('lets a Canadian deployment accept the UK test-key numbers', () => {
    expect(validatePhoneNumber('07700900003', CA).e164).toBe('+447700900003');
    expect(validatePhoneNumber('07700900002', CA).e164).toBe('+447700900002');
  });
});
