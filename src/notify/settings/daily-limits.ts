/**
 * How many messages a service may send a day, per channel: 50 each in trial mode, raised when it goes live, and
 * changed by platform admins. The send rules enforce them (sending/limits.ts).
 */
import type { Db } from '../../platform/database/connection.ts';
import { recordAudit } from '../../platform/audit.ts';
import { updateService } from '../../platform/repositories/services.ts';
import { findDailyLimits, lockDailyLimits } from '../repositories/service-settings.ts';
import { SettingsError } from './settings-error.ts';

export const TRIAL_DAILY_LIMIT = 50;
/** GC Notify's limits for a live service. */
export const LIVE_DAILY_LIMITS = { email: 10_000, sms: 1_500 } as const;
const MAX_DAILY_LIMIT = 10_000_000;

export interface DailyLimits {
  email: number;
  sms: number;
  internationalSms: number;
}

export interface DailyLimitsInput {
  email: string;
  sms: string;
  internationalSms: string;
}

/** Parses a daily volume typed by a person: digits, maybe with spaces or commas between thousands. */
export function parseVolume(raw: string): number | null {
  const cleaned = raw.trim().replace(/[\s,\u00a0\u202f]/g, '');
  if (!/^\d{1,9}$/.test(cleaned)) return null;
  return Number(cleaned);
}

/** A service's daily message limits, per channel. */
export async function serviceDailyLimits(db: Db, serviceId: string): Promise<DailyLimits> {
  const row = await findDailyLimits(db, serviceId);
  return {
    email: row.email_message_limit,
    sms: row.sms_message_limit,
    internationalSms: row.international_sms_message_limit,
  };
}

/** Field by field: which of the three limits is not a whole number from 0 to MAX_DAILY_LIMIT. */
export function limitProblems(input: DailyLimitsInput): Array<keyof DailyLimitsInput> {
  return (['email', 'sms', 'internationalSms'] as const).filter((k) => {
    const n = parseVolume(input[k]);
    return n === null || n > MAX_DAILY_LIMIT;
  });
}

export async function setDailyLimits(
  db: Db,
  input: DailyLimitsInput & { serviceId: string; actorId: string; ip: string | null },
): Promise<void> {
  if (limitProblems(input).length) throw new SettingsError('limit-invalid');
  const limits = {
    email: parseVolume(input.email)!,
    sms: parseVolume(input.sms)!,
    internationalSms: parseVolume(input.internationalSms)!,
  };
  await db.transaction().execute(async (trx) => {
    // The limits before the change, for the audit log (locked, so that two admins' changes are recorded in order).
    const before = await lockDailyLimits(trx, input.serviceId);
    if (!before) return;
    await updateService(trx, input.serviceId, {
      email_message_limit: limits.email,
      sms_message_limit: limits.sms,
      international_sms_message_limit: limits.internationalSms,
    });
    await recordAudit(trx, {
      event: 'service-limits-changed',
      actorId: input.actorId,
      userId: null,
      ip: input.ip,
      details: {
        serviceId: input.serviceId,
        serviceName: before.name,
        before: {
          email: before.email_message_limit,
          sms: before.sms_message_limit,
          internationalSms: before.international_sms_message_limit,
        },
        after: limits,
      },
    });
  });
}
