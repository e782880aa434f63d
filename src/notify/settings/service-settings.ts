/**
 * A service as Notify sees it: created in trial mode with its email sender and trial limits, and its settings read
 * together for the settings pages (sender, retention, limits, branding, going live). Retention is set here; the
 * other settings have their own files.
 */
import type { Db } from '../../platform/database/connection.ts';
import type { EmailBranding } from '../vocabulary.ts';
import { updateService } from '../../platform/repositories/services.ts';
import {
  checkNameFree,
  cleanServiceName,
  createService,
  type ServiceSummary,
} from '../../platform/services/services.ts';
import { findServiceSettings } from '../repositories/service-settings.ts';
import { type DailyLimits, TRIAL_DAILY_LIMIT } from './daily-limits.ts';
import { checkLocalPartFree, cleanLocalPart } from './senders.ts';
import { SettingsError } from './settings-error.ts';

export const RETENTION_DAYS = { min: 3, max: 90 } as const;

export interface ServiceSettings extends ServiceSummary {
  emailSenderName: string | null;
  emailSenderLocalPart: string;
  dataRetentionDays: number;
  limits: DailyLimits;
  branding: EmailBranding;
  logo: { contentType: string; altEn: string; altFr: string; size: number } | null;
  goLiveAt: Date | null;
  suspendedAt: Date | null;
}

/**
 * A new service in trial mode, sending email from `localPart`, 50 messages a day per channel; its creator joins
 * with every permission. The name's problems come first, then the local part's, then which of them is taken.
 */
export async function createNotifyService(
  db: Db,
  input: { name: string; localPart: string; creatorId: string; ip: string | null },
): Promise<string> {
  const name = cleanServiceName(input.name);
  const localPart = cleanLocalPart(input.localPart);
  await checkNameFree(db, name);
  await checkLocalPartFree(db, localPart, null);
  return createService(db, {
    name,
    creatorId: input.creatorId,
    ip: input.ip,
    columns: {
      email_sender_local_part: localPart,
      email_message_limit: TRIAL_DAILY_LIMIT,
      sms_message_limit: TRIAL_DAILY_LIMIT,
      international_sms_message_limit: TRIAL_DAILY_LIMIT,
    },
  });
}

export async function serviceSettings(db: Db, serviceId: string): Promise<ServiceSettings | null> {
  const row = await findServiceSettings(db, serviceId);
  if (!row) return null;
  return {
    id: row.id,
    name: row.name,
    restricted: row.restricted,
    active: row.active,
    emailSenderName: row.email_sender_name,
    emailSenderLocalPart: row.email_sender_local_part,
    dataRetentionDays: row.data_retention_days,
    limits: {
      email: row.email_message_limit,
      sms: row.sms_message_limit,
      internationalSms: row.international_sms_message_limit,
    },
    branding: row.email_branding,
    logo: row.content_type
      ? {
          contentType: row.content_type,
          altEn: row.alt_en ?? '',
          altFr: row.alt_fr ?? '',
          size: Number(row.logo_size ?? 0),
        }
      : null,
    goLiveAt: row.go_live_at,
    suspendedAt: row.suspended_at,
  };
}

export async function setRetention(db: Db, serviceId: string, raw: string): Promise<void> {
  const days = /^\d{1,3}$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!(days >= RETENTION_DAYS.min && days <= RETENTION_DAYS.max)) throw new SettingsError('retention-invalid');
  await updateService(db, serviceId, { data_retention_days: days });
}
