/**
 * Recipient rules, for every product: which email addresses and phone numbers Envoi accepts, their canonical forms,
 * and the special "smoke test" and test-key recipients. Behaviour follows GOV.UK Notify's notifications-utils
 * (recipient_validation), with Canadian-first phone parsing. Error messages are Notify's legacy v2 texts, because
 * the v2 API puts them on the wire (`phone_number Not enough digits`).
 */
import { domainToASCII } from 'node:url';
import {
  getCountryCallingCode,
  parsePhoneNumberWithError,
  ParseError,
  validatePhoneNumberLength,
  type CountryCode,
  type PhoneNumber,
} from 'libphonenumber-js/max';

export type { CountryCode };
export type RecipientType = 'email' | 'sms';

/** What is wrong with a recipient: `email`, or one of PHONE_ERRORS' keys. */
export type RecipientProblem = 'email' | keyof typeof PHONE_ERRORS;

export class InvalidRecipientError extends Error {
  /** The v2 request field the message belongs to, so a caller can build `phone_number Not enough digits`. */
  readonly field: 'email_address' | 'phone_number';

  /** The message is Notify's text for the problem; callers that word it themselves read `problem`. */
  constructor(readonly problem: RecipientProblem) {
    super(recipientProblemText(problem));
    this.name = 'InvalidRecipientError';
    this.field = problem === 'email' ? 'email_address' : 'phone_number';
  }
}

export const EMAIL_ERROR = 'Not a valid email address';

export function recipientProblemText(problem: RecipientProblem): string {
  return problem === 'email' ? EMAIL_ERROR : PHONE_ERRORS[problem];
}

export const PHONE_ERRORS = {
  tooLong: 'Too many digits',
  tooShort: 'Not enough digits',
  badCharacter: 'Must not contain letters or symbols',
  badCountry: 'Not a valid country prefix',
  invalid: 'Number is not valid – double check the phone number you entered',
  emergency: 'Phone number cannot be an emergency number',
} as const;

// Characters that copy-paste from office documents brings in: removed wherever they are, as upstream does.
// biome-ignore lint/suspicious/noMisleadingCharacterClass: each of these characters is meant alone, joiners included
const OBSCURE_WHITESPACE = /[\u180E\u200B\u200C\u200D\u2060\uFEFF\u2028\u2029\u00A0\u202F]/g;
// Python's string.whitespace: only these are trimmed from the ends.
const EDGE_WHITESPACE = /^[ \t\n\r\v\f]+|[ \t\n\r\v\f]+$/g;

function stripWhitespace(raw: string): string {
  return raw.replace(OBSCURE_WHITESPACE, '').replace(EDGE_WHITESPACE, '');
}

// ---------------------------------------------------------------------------------------------------------------
// Email

// The local part is stricter than RFC 5322 on purpose: no quotes or semicolons, which upset email providers.
const EMAIL_SHAPE = /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@([^.@][^@\s]+)$/;
const HOSTNAME_LABEL = /^(xn|[a-z0-9]+)(-?-[a-z0-9]+)*$/i;
const TOP_LEVEL_DOMAIN = /^([a-z]{2,63}|xn--([a-z0-9]+-)*[a-z0-9]+)$/i;
// Before IDNA, ASCII in a hostname may only be letters, digits, dots and hyphens: node's domainToASCII would
// otherwise percent-decode `%41` or cut the host at `\`, turning a bad address into a good-looking one.
const NON_LDH_ASCII = /[\x00-\x2c\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]/;

function invalidEmail(): InvalidRecipientError {
  return new InvalidRecipientError('email');
}

/** Returns the address trimmed (case kept, as the user typed it), or throws `Not a valid email address`. */
export function validateEmailAddress(raw: string): string {
  const address = stripWhitespace(String(raw));
  const match = EMAIL_SHAPE.exec(address);
  if (!match) throw invalidEmail();
  if (address.length > 320) throw invalidEmail();
  if (address.includes('..')) throw invalidEmail();

  let hostname = match[1];
  if (NON_LDH_ASCII.test(hostname)) throw invalidEmail();
  if (/[^\x00-\x7f]/.test(hostname)) {
    // Internationalised domain: check the punycode form that mail servers will see.
    hostname = domainToASCII(hostname);
    if (hostname === '') throw invalidEmail();
  }

  const labels = hostname.split('.');
  if (hostname.length > 253 || labels.length < 2) throw invalidEmail();
  for (const label of labels) {
    if (label === '' || label.length > 63 || !HOSTNAME_LABEL.test(label)) throw invalidEmail();
  }
  if (!TOP_LEVEL_DOMAIN.test(labels[labels.length - 1])) throw invalidEmail();
  return address;
}

/** The form used to compare addresses (team members, guest list, simulated addresses). Does not validate. */
export function normaliseEmail(raw: string): string {
  return stripWhitespace(String(raw).toLowerCase());
}

// ---------------------------------------------------------------------------------------------------------------
// Phone numbers

export interface ValidPhoneNumber {
  /** `+16132532222` */
  e164: string;
  /** True when the calling code differs from the default region's (for CA or US: anything outside +1). */
  international: boolean;
  /** The calling code, digits only: `1`, `44`, `33`. */
  countryCode: string;
  /** ISO 3166 region if libphonenumber can tell (`CA`, `US`, `GB`, `GG`…); undefined for e.g. UK TV numbers. */
  region: CountryCode | undefined;
}

export interface PhoneOptions {
  defaultRegion: CountryCode;
}

const DEFAULT_PHONE_OPTIONS: PhoneOptions = { defaultRegion: 'CA' };

// Upstream's character rule (plus dots, which North American users write: 613.555.0123).
const PHONE_CHARACTERS = /^[\s()+\-.0-9]*$/;
const EMERGENCY_NUMBERS = new Set(['911', '999', '112']);
// Numbers people may text without them being a real line or mobile: premium rate, toll-free, VoIP, pagers … are not.
const SENDABLE_TYPES = new Set(['MOBILE', 'FIXED_LINE', 'FIXED_LINE_OR_MOBILE', 'UAN', 'PERSONAL_NUMBER']);

function phoneError(problem: keyof typeof PHONE_ERRORS): InvalidRecipientError {
  return new InvalidRecipientError(problem);
}

function lengthError(reason: string | undefined): InvalidRecipientError {
  switch (reason) {
    case 'TOO_LONG':
      return phoneError('tooLong');
    case 'TOO_SHORT':
    case 'NOT_A_NUMBER':
      return phoneError('tooShort');
    case 'INVALID_COUNTRY':
      return phoneError('badCountry');
    default:
      return phoneError('invalid');
  }
}

/** Ofcom's drama range, 07700 900000–900999: not "valid" to libphonenumber, but Notify's test numbers live there. */
function isUkTvNumber(number: PhoneNumber): boolean {
  return number.countryCallingCode === '44' && /^7700900\d{3}$/.test(number.nationalNumber);
}

function parseOrThrow(text: string, region: CountryCode): PhoneNumber {
  try {
    return parsePhoneNumberWithError(text, region);
  } catch (error) {
    if (error instanceof ParseError) throw lengthError(error.message);
    throw error;
  }
}

function parseInRegion(text: string, region: CountryCode): PhoneNumber {
  let number = parseOrThrow(text, region);
  if (EMERGENCY_NUMBERS.has(number.nationalNumber)) throw phoneError('emergency');

  if (!number.isPossible()) {
    const lengthProblem = validatePhoneNumberLength(text, region) ?? 'INVALID_LENGTH';
    // Spreadsheets drop the leading `+`: `447911123456` read in Canada is too long, but is a fine UK number.
    const forced = text.trimStart().startsWith('+') ? undefined : tryParse(`+${text.replace(/\D/g, '')}`, region);
    if (forced?.isPossible()) number = forced;
    else throw lengthError(lengthProblem);
  }

  const type = number.getType();
  const sendable = number.isValid() && type !== undefined && SENDABLE_TYPES.has(type);
  if (!sendable && !isUkTvNumber(number)) throw phoneError('invalid');
  return number;
}

function tryParse(text: string, region: CountryCode): PhoneNumber | undefined {
  try {
    return parsePhoneNumberWithError(text, region);
  } catch {
    return undefined;
  }
}

function toResult(number: PhoneNumber, defaultRegion: CountryCode): ValidPhoneNumber {
  return {
    e164: number.number,
    international: number.countryCallingCode !== getCountryCallingCode(defaultRegion),
    countryCode: number.countryCallingCode,
    region: number.country,
  };
}

/**
 * Validates a phone number for sending. A number without `+` is read in `defaultRegion` (Canada unless configured);
 * UK local forms of Notify's simulated and test-key numbers (`07700900003`) are accepted in any region so that
 * GOV.UK-style tests work against a Canadian deployment.
 */
export function validatePhoneNumber(raw: string, opts: PhoneOptions = DEFAULT_PHONE_OPTIONS): ValidPhoneNumber {
  const region = opts.defaultRegion;
  const text = stripWhitespace(String(raw));
  if (!PHONE_CHARACTERS.test(text)) throw phoneError('badCharacter');
  const digits = text.replace(/\D/g, '');
  if (digits === '') throw phoneError('tooShort');

  try {
    return toResult(parseInRegion(text, region), region);
  } catch (firstError) {
    if (!(firstError instanceof InvalidRecipientError) || firstError.problem === 'emergency') {
      throw firstError;
    }
    // Close-to-valid numbers (a stray `+` or leading zeros: `0+447700900100`, `000613…`) get the benefit of the
    // doubt, like upstream; the first error is the one reported when that fails too.
    const relaxed = digits.replace(/^0+/, '');
    if (relaxed !== '' && relaxed !== text) {
      try {
        return toResult(parseInRegion(relaxed, region), region);
      } catch {
        // fall through
      }
    }
    const special = specialUkNumber(text);
    if (special) return toResult(special, region);
    throw firstError;
  }
}

/** UK reading of a number, only when it is one of Notify's simulated or test-key numbers. */
function specialUkNumber(text: string): PhoneNumber | undefined {
  const number = tryParse(text, 'GB');
  return number && SPECIAL_UK_NUMBERS.has(number.number) ? number : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Canonical forms, simulated and test-key recipients

/** Canonical form used to compare recipients: lower-cased email, E.164 phone. Throws InvalidRecipientError. */
export function normaliseRecipient(
  type: RecipientType,
  raw: string,
  opts: PhoneOptions = DEFAULT_PHONE_OPTIONS,
): string {
  return type === 'email' ? validateEmailAddress(raw).toLowerCase() : validatePhoneNumber(raw, opts).e164;
}

const SIMULATED_EMAILS = new Set([
  'simulate-delivered@notifications.service.gov.uk',
  'simulate-delivered-2@notifications.service.gov.uk',
  'simulate-delivered-3@notifications.service.gov.uk',
  'simulate-delivered@notification.canada.ca',
  'simulate-delivered-2@notification.canada.ca',
  'simulate-delivered-3@notification.canada.ca',
]);

const SIMULATED_PHONES = new Set([
  '+447700900000',
  '+447700900111',
  '+447700900222',
  '+16132532222',
  '+16132532223',
  '+16132532224',
]);

export type TestKeyOutcome = 'delivered' | 'temporary-failure' | 'permanent-failure';

const TEST_KEY_EMAIL_OUTCOMES = new Map<string, TestKeyOutcome>([
  ['temp-fail@simulator.notify', 'temporary-failure'],
  ['perm-fail@simulator.notify', 'permanent-failure'],
]);

const TEST_KEY_PHONE_OUTCOMES = new Map<string, TestKeyOutcome>([
  ['+447700900003', 'temporary-failure'],
  ['+447700900002', 'permanent-failure'],
  ['+15149301633', 'temporary-failure'],
  ['+15149301632', 'permanent-failure'],
]);

const SPECIAL_UK_NUMBERS = new Set(
  [...SIMULATED_PHONES, ...TEST_KEY_PHONE_OUTCOMES.keys()].filter((e164) => e164.startsWith('+44')),
);

/**
 * Every E.164 reading of a phone number that could name a special recipient: as written if it has `+`, else both
 * the UK reading (Notify's numbers are written `07700900003`) and the North American one (GC's `6132532222`).
 */
function phoneReadings(raw: string): string[] {
  const text = stripWhitespace(String(raw));
  if (/^\+\d+$/.test(text)) return [text]; // already canonical: the common case on the send path
  const readings: string[] = [];
  for (const region of ['GB', 'CA'] as const) {
    try {
      readings.push(validatePhoneNumber(text, { defaultRegion: region }).e164);
    } catch {
      // not a valid number in that reading
    }
  }
  return readings;
}

/** Smoke-test recipients: accepted, reported as delivered, never stored or sent. */
export function isSimulatedRecipient(type: RecipientType, raw: string): boolean {
  if (type === 'email') return SIMULATED_EMAILS.has(normaliseEmail(raw));
  return phoneReadings(raw).some((e164) => SIMULATED_PHONES.has(e164));
}

/** What a test ("research mode") key's fake delivery ends in for this recipient. */
export function testKeyOutcome(type: RecipientType, raw: string): TestKeyOutcome {
  if (type === 'email') return TEST_KEY_EMAIL_OUTCOMES.get(normaliseEmail(raw)) ?? 'delivered';
  for (const e164 of phoneReadings(raw)) {
    const outcome = TEST_KEY_PHONE_OUTCOMES.get(e164);
    if (outcome) return outcome;
  }
  return 'delivered';
}
