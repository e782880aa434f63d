/**
 * The guest list: who a service in trial mode may send to besides its team. Every member sees it; the pages let
 * those who manage the service change it. No HTTP here: the UI turns GuestListError codes into words.
 */
import type { Db } from '../../platform/database/connection.ts';
import { CodedError } from '../../platform/coded-error.ts';
import {
  InvalidRecipientError,
  normaliseEmail,
  validateEmailAddress,
  validatePhoneNumber,
  type CountryCode,
} from '../../platform/recipients.ts';
import { deleteGuest, insertGuest, listGuestRows } from '../repositories/guest-list.ts';

/** GC Notify's guest list holds 5 addresses and 5 numbers; a little more room here. */
export const GUEST_LIST_MAX_PER_TYPE = 20;

export type GuestListErrorCode = 'invalid-recipient' | 'guest-list-full' | 'already-on-guest-list';

export class GuestListError extends CodedError<GuestListErrorCode> {}

export interface Guest {
  id: string;
  type: 'email' | 'sms';
  recipient: string;
}

export async function listGuests(db: Db, serviceId: string): Promise<Guest[]> {
  const rows = await listGuestRows(db, serviceId);
  return rows.map((r) => ({ id: r.id, type: r.recipient_type, recipient: r.recipient }));
}

/** Adds an email address or a phone number (told apart by the @), stored in the form sends are compared in. */
export async function addGuest(
  db: Db,
  input: { serviceId: string; recipient: string; phoneRegion: string },
): Promise<Guest> {
  const raw = input.recipient.trim();
  const type = raw.includes('@') ? ('email' as const) : ('sms' as const);
  let recipient: string;
  try {
    recipient =
      type === 'email'
        ? normaliseEmail(validateEmailAddress(raw))
        : validatePhoneNumber(raw, { defaultRegion: input.phoneRegion as CountryCode }).e164;
  } catch (err) {
    if (err instanceof InvalidRecipientError) throw new GuestListError('invalid-recipient');
    throw err;
  }
  const current = await listGuests(db, input.serviceId);
  if (current.some((g) => g.type === type && g.recipient === recipient))
    throw new GuestListError('already-on-guest-list');
  if (current.filter((g) => g.type === type).length >= GUEST_LIST_MAX_PER_TYPE)
    throw new GuestListError('guest-list-full');
  const id = await insertGuest(db, input.serviceId, { recipient_type: type, recipient });
  if (!id) throw new GuestListError('already-on-guest-list');
  return { id, type, recipient };
}

export async function removeGuest(db: Db, serviceId: string, guestId: string): Promise<boolean> {
  return deleteGuest(db, serviceId, guestId);
}
