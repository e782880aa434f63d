/** The format checks of the v2 schemas, with the messages Notify's clients expect. */
import { MAX_SCHEDULE_HOURS } from '../../sending/send-rules.ts';
import {
  InvalidRecipientError,
  validateEmailAddress,
  validatePhoneNumber,
  type CountryCode,
} from '../../../platform/recipients.ts';
import { canonicalUuid } from '../../../platform/ids.ts';
import { parseIsoDate } from './request.ts';
import type { Check } from './validation.ts';

/** A recipient validator as a format check: its InvalidRecipientError message becomes the field's message. */
function recipientCheck(value: unknown, validate: (raw: string) => unknown): string | null {
  if (typeof value !== 'string') return null;
  try {
    validate(value);
    return null;
  } catch (err) {
    if (err instanceof InvalidRecipientError) return err.message;
    throw err;
  }
}

export function formatChecks(phoneRegion: string): Record<string, Check> {
  return {
    uuid: (v) => (typeof v === 'string' && canonicalUuid(v) ? null : 'is not a valid UUID'),
    nullable_uuid: (v) => (v === null || (typeof v === 'string' && canonicalUuid(v)) ? null : 'is not a valid UUID'),
    email_address: (v) => recipientCheck(v, validateEmailAddress),
    phone_number: (v) =>
      recipientCheck(v, (raw) => validatePhoneNumber(raw, { defaultRegion: phoneRegion as CountryCode })),
    uri: (v) => {
      if (typeof v !== 'string') return null;
      try {
        return new URL(v).protocol === 'https:' ? null : 'is not a valid https url';
      } catch {
        return 'is not a valid https url';
      }
    },
    scheduled_for: (v) => {
      if (v === null || typeof v !== 'string') return null;
      const date = parseIsoDate(v);
      if (!date) {
        return 'datetime format is invalid. It must be a valid ISO8601 date time format, https://en.wikipedia.org/wiki/ISO_8601';
      }
      if (date.getTime() < Date.now()) return 'datetime cannot be in the past';
      if (date.getTime() > Date.now() + MAX_SCHEDULE_HOURS * 3600_000) {
        return `datetime can only be up to ${MAX_SCHEDULE_HOURS} hours in the future`;
      }
      return null;
    },
  };
}
