/**
 * Who a service's messages come from: the email sender (the From header's name and the part of the address before
 * the @), reply-to addresses and text message senders. The last two are lists with one default, removed by
 * archiving.
 */
import type { Db } from '../../platform/database/connection.ts';
import { NAME_MAX } from '../../platform/services/services.ts';
import { updateService } from '../../platform/repositories/services.ts';
import {
  InvalidRecipientError,
  validateEmailAddress,
  validatePhoneNumber,
  type CountryCode,
} from '../../platform/recipients.ts';
import { localPartTaken } from '../repositories/service-settings.ts';
import {
  activeSenderExists,
  activeSenders,
  archiveSender,
  clearDefaultSender,
  insertSender,
  reviveSender,
  type SenderKind,
  setDefaultSender,
} from '../repositories/senders.ts';
import { SettingsError } from './settings-error.ts';

export interface Sender {
  id: string;
  value: string;
  isDefault: boolean;
}

/** The part before the @ of the From address: lower-case letters, digits, dots, hyphens and underscores. */
export function cleanLocalPart(raw: string): string {
  const part = raw.trim().toLowerCase();
  if (!part) throw new SettingsError('local-part-missing');
  if (part.length > 64 || !/^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$/.test(part) || part.includes('..'))
    throw new SettingsError('local-part-invalid');
  return part;
}

/** Refuses a local part another service (not `exceptId`) sends from. */
export async function checkLocalPartFree(db: Db, localPart: string, exceptId: string | null): Promise<void> {
  if (await localPartTaken(db, localPart, exceptId)) throw new SettingsError('local-part-taken');
}

/** A text message sender: 3 to 11 letters, digits or spaces with at least one letter, or a phone number. */
export function cleanSmsSender(raw: string, phoneRegion: string): string {
  const value = raw.trim();
  if (/^[A-Za-z0-9 ]{3,11}$/.test(value) && /[A-Za-z]/.test(value)) return value;
  if (/^[\d\s()+.-]+$/.test(value)) {
    try {
      return validatePhoneNumber(value, { defaultRegion: phoneRegion as CountryCode }).e164;
    } catch (err) {
      if (!(err instanceof InvalidRecipientError)) throw err;
    }
  }
  throw new SettingsError('sms-sender-invalid');
}

/** The From header's name (blank: the service's name) and the part of the address before the @. */
export async function setEmailSender(
  db: Db,
  serviceId: string,
  input: { senderName: string; localPart: string },
): Promise<void> {
  const senderName = input.senderName.trim().replace(/\s+/g, ' ');
  if (senderName.length > NAME_MAX) throw new SettingsError('sender-name-too-long');
  const localPart = cleanLocalPart(input.localPart);
  await checkLocalPartFree(db, localPart, serviceId);
  await updateService(db, serviceId, { email_sender_name: senderName || null, email_sender_local_part: localPart });
}

// Reply-to addresses and text message senders, named by their tables as the pages name them.
type SenderTable = 'email_reply_to' | 'sms_senders';
const KIND: Record<SenderTable, SenderKind> = { email_reply_to: 'reply-to', sms_senders: 'sms-sender' };

export async function listSenders(db: Db, table: SenderTable, serviceId: string): Promise<Sender[]> {
  return activeSenders(db, KIND[table], serviceId);
}

/** Adds a reply-to address or text sender; the first one (or one marked so) becomes the default. */
export async function addSender(
  db: Db,
  table: SenderTable,
  serviceId: string,
  input: { value: string; makeDefault: boolean; phoneRegion: string },
): Promise<Sender> {
  let value: string;
  if (table === 'email_reply_to') {
    try {
      value = validateEmailAddress(input.value);
    } catch (err) {
      if (err instanceof InvalidRecipientError) throw new SettingsError('reply-to-invalid');
      throw err;
    }
  } else {
    value = cleanSmsSender(input.value, input.phoneRegion);
  }
  const kind = KIND[table];
  return db.transaction().execute(async (trx) => {
    const current = await activeSenders(trx, kind, serviceId);
    if (current.some((s) => s.value.toLowerCase() === value.toLowerCase()))
      throw new SettingsError(table === 'email_reply_to' ? 'reply-to-exists' : 'sms-sender-exists');
    const isDefault = input.makeDefault || current.length === 0;
    if (isDefault) await clearDefaultSender(trx, kind, serviceId);
    // An archived row with the same value comes back rather than colliding with the unique key.
    const id =
      (await reviveSender(trx, kind, serviceId, value, isDefault)) ??
      (await insertSender(trx, kind, serviceId, value, isDefault));
    return { id, value, isDefault };
  });
}

export async function makeDefaultSender(
  db: Db,
  table: SenderTable,
  serviceId: string,
  senderId: string,
): Promise<boolean> {
  const kind = KIND[table];
  return db.transaction().execute(async (trx) => {
    if (!(await activeSenderExists(trx, kind, serviceId, senderId))) return false;
    await clearDefaultSender(trx, kind, serviceId);
    await setDefaultSender(trx, kind, serviceId, senderId);
    return true;
  });
}

/** Removes one; the default can go only when it is the last (make another the default first). */
export async function removeSender(db: Db, table: SenderTable, serviceId: string, senderId: string): Promise<boolean> {
  const current = await listSenders(db, table, serviceId);
  const target = current.find((s) => s.id === senderId);
  if (!target) return false;
  if (target.isDefault && current.length > 1) throw new SettingsError('default-sender');
  await archiveSender(db, KIND[table], serviceId, senderId);
  return true;
}
