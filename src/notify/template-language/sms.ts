// Text message bodies, rendered in the order Notify uses (notify-api-v2.md §2.12).

import { fillPlaceholders, type Personalisation } from './personalisation.ts';
import { encodeForSms, smsEncoding, smsFragmentCount, type SmsEncoding } from './sms-encoding.ts';
import {
  normaliseMultipleNewlines,
  normaliseWhitespaceAndNewlines,
  removeWhitespaceBeforePunctuation,
  stripWhitespace,
} from './whitespace.ts';

/** Longest text message Envoi accepts, in characters (4 fragments of 153, as GC Notify). */
export const SMS_CHARACTER_LIMIT = 612;

export interface RenderedSms {
  /** What is sent to the phone. */
  body: string;
  /** Characters in the body (Unicode code points). */
  characterCount: number;
  /** Parts the body is sent in (0 for an empty body). */
  fragmentCount: number;
  encoding: SmsEncoding;
}

export function renderSms(content: string, personalisation: Personalisation | null | undefined): RenderedSms {
  let text = fillPlaceholders(content, personalisation, { listStyle: 'none' });
  text = removeWhitespaceBeforePunctuation(text);
  text = normaliseWhitespaceAndNewlines(text);
  text = normaliseMultipleNewlines(text);
  text = stripWhitespace(text);
  const body = encodeForSms(text);
  return {
    body,
    characterCount: [...body].length,
    fragmentCount: smsFragmentCount(body),
    encoding: smsEncoding(body),
  };
}

export function smsTooLong(characterCount: number): boolean {
  return characterCount > SMS_CHARACTER_LIMIT;
}
