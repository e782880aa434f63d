/**
 * Services as their teams and platform admins manage them: creating one (in trial mode, its creator a member with
 * every permission), its settings (name, email sender, reply-to addresses, text message senders, retention,
 * branding), the request to go live and its decision, suspension and daily limits. No HTTP here: the UI calls
 * these, and turns ServiceError codes into words. Callers forget cached service facts (ServiceDirectory) after a
 * change.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../database/connection.ts';
import type { EmailBranding, Permission } from '../database/schema.ts';
import { recordAudit } from '../audit.ts';
import { ALL_PERMISSIONS } from './team.ts';
import { InvalidRecipientError, validateEmailAddress, validatePhoneNumber, type CountryCode } from '../recipients.ts';
import { notificationStatistics } from '../../notify/reporting/statistics.ts';
import { addDays } from '../utc-days.ts';
import { utcDay } from '../../notify/sending/limits.ts';

export const TRIAL_DAILY_LIMIT = 50;
/** GC Notify's limits for a live service. */
export const LIVE_DAILY_LIMITS = { email: 10_000, sms: 1_500 } as const;
export const MAX_DAILY_LIMIT = 10_000_000;
export const RETENTION_DAYS = { min: 3, max: 90 } as const;
export const NAME_MAX = 255;
export const LOGO_MAX_BYTES = 500 * 1024;
export const ALT_TEXT_MAX = 255;
export const MAIN_USE_MAX = 2000;

export type ServiceErrorCode =
  | 'name-missing'
  | 'name-too-long'
  | 'name-taken'
  | 'local-part-missing'
  | 'local-part-invalid'
  | 'local-part-taken'
  | 'sender-name-too-long'
  | 'retention-invalid'
  | 'reply-to-invalid'
  | 'reply-to-exists'
  | 'sms-sender-invalid'
  | 'sms-sender-exists'
  | 'default-sender'
  | 'logo-missing'
  | 'logo-type'
  | 'logo-too-big'
  | 'alt-en-missing'
  | 'alt-fr-missing'
  | 'alt-too-long'
  | 'limit-invalid'
  | 'not-ready'
  | 'already-requested'
  | 'already-live'
  | 'main-use-missing'
  | 'volume-invalid'
  | 'reason-missing'
  | 'not-found';

export class ServiceError extends Error {
  constructor(readonly code: ServiceErrorCode) {
    super(code);
    this.name = 'ServiceError';
  }
}

export interface ServiceSummary {
  id: string;
  name: string;
  restricted: boolean;
  active: boolean;
}

export interface ServiceSettings extends ServiceSummary {
  emailSenderName: string | null;
  emailSenderLocalPart: string;
  dataRetentionDays: number;
  limits: { email: number; sms: number; internationalSms: number };
  branding: EmailBranding;
  logo: { contentType: string; altEn: string; altFr: string; size: number } | null;
  goLiveAt: Date | null;
  suspendedAt: Date | null;
}

export interface Sender {
  id: string;
  value: string;
  isDefault: boolean;
}

// ---- rules on single fields -------------------------------------------------------------------------------------

export function cleanServiceName(raw: string): string {
  const name = raw.trim().replace(/\s+/g, ' ');
  if (!name) throw new ServiceError('name-missing');
  if (name.length > NAME_MAX) throw new ServiceError('name-too-long');
  return name;
}

/** The part before the @ of the From address: lower-case letters, digits, dots, hyphens and underscores. */
export function cleanLocalPart(raw: string): string {
  const part = raw.trim().toLowerCase();
  if (!part) throw new ServiceError('local-part-missing');
  if (part.length > 64 || !/^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$/.test(part) || part.includes('..'))
    throw new ServiceError('local-part-invalid');
  return part;
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
  throw new ServiceError('sms-sender-invalid');
}

async function nameTaken(db: Db, name: string, exceptId: string | null): Promise<boolean> {
  let q = db.selectFrom('services').select('id').where(sql`lower(name)`, '=', name.toLowerCase());
  if (exceptId) q = q.where('id', '!=', exceptId);
  return (await q.executeTakeFirst()) !== undefined;
}

async function localPartTaken(db: Db, part: string, exceptId: string | null): Promise<boolean> {
  let q = db.selectFrom('services').select('id').where(sql`lower(email_sender_local_part)`, '=', part);
  if (exceptId) q = q.where('id', '!=', exceptId);
  return (await q.executeTakeFirst()) !== undefined;
}

// ---- creating and listing -----------------------------------------------------------------------------------

/** A new service in trial mode; its creator joins with every permission. */
export async function createService(
  db: Db,
  input: { name: string; localPart: string; creatorId: string; ip: string | null },
): Promise<string> {
  const name = cleanServiceName(input.name);
  const localPart = cleanLocalPart(input.localPart);
  if (await nameTaken(db, name, null)) throw new ServiceError('name-taken');
  if (await localPartTaken(db, localPart, null)) throw new ServiceError('local-part-taken');
  const id = randomUUID();
  try {
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto('services')
        .values({
          id,
          name,
          email_sender_local_part: localPart,
          restricted: true,
          active: true,
          email_message_limit: TRIAL_DAILY_LIMIT,
          sms_message_limit: TRIAL_DAILY_LIMIT,
          international_sms_message_limit: TRIAL_DAILY_LIMIT,
          created_by_id: input.creatorId,
        })
        .execute();
      await trx
        .insertInto('service_users')
        .values({ service_id: id, user_id: input.creatorId, permissions: [...ALL_PERMISSIONS] })
        .execute();
      await recordAudit(trx, {
        event: 'service-created',
        actorId: input.creatorId,
        userId: input.creatorId,
        ip: input.ip,
        details: { serviceId: id, serviceName: name },
      });
    });
  } catch (err) {
    // Two people creating the same name at once: the unique index decides.
    if (await nameTaken(db, name, null)) throw new ServiceError('name-taken');
    throw err;
  }
  return id;
}

/** The services a person is a member of, by name. */
export async function memberServices(db: Db, userId: string): Promise<ServiceSummary[]> {
  return db
    .selectFrom('services as s')
    .innerJoin('service_users as su', 'su.service_id', 's.id')
    .select(['s.id', 's.name', 's.restricted', 's.active'])
    .where('su.user_id', '=', userId)
    .orderBy('s.name')
    .execute();
}

/** A service's daily message limits, per channel. */
export async function serviceDailyLimits(db: Db, serviceId: string): Promise<ServiceSettings['limits']> {
  const row = await db
    .selectFrom('services')
    .select(['email_message_limit', 'sms_message_limit', 'international_sms_message_limit'])
    .where('id', '=', serviceId)
    .executeTakeFirstOrThrow();
  return {
    email: row.email_message_limit,
    sms: row.sms_message_limit,
    internationalSms: row.international_sms_message_limit,
  };
}

/** A service and, when the account is a member, its permissions there: what a service's pages check first. */
export async function serviceMembership(
  db: Db,
  serviceId: string,
  userId: string,
): Promise<(ServiceSummary & { member: boolean; permissions: Permission[] | null }) | null> {
  const row = await db
    .selectFrom('services as s')
    .leftJoin('service_users as su', (join) => join.onRef('su.service_id', '=', 's.id').on('su.user_id', '=', userId))
    .select(['s.id', 's.name', 's.restricted', 's.active', 'su.permissions', 'su.user_id'])
    .where('s.id', '=', serviceId)
    .executeTakeFirst();
  if (!row) return null;
  const { user_id, ...rest } = row;
  return { ...rest, member: user_id !== null };
}

export async function serviceSettings(db: Db, serviceId: string): Promise<ServiceSettings | null> {
  const row = await db
    .selectFrom('services as s')
    .leftJoin('email_logos as l', 'l.service_id', 's.id')
    .select([
      's.id',
      's.name',
      's.restricted',
      's.active',
      's.email_sender_name',
      's.email_sender_local_part',
      's.data_retention_days',
      's.email_message_limit',
      's.sms_message_limit',
      's.international_sms_message_limit',
      's.email_branding',
      's.go_live_at',
      's.suspended_at',
      'l.content_type',
      'l.alt_en',
      'l.alt_fr',
      sql<number | null>`octet_length(l.bytes)`.as('logo_size'),
    ])
    .where('s.id', '=', serviceId)
    .executeTakeFirst();
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

// ---- settings ---------------------------------------------------------------------------------------------------

export async function renameService(db: Db, serviceId: string, rawName: string): Promise<void> {
  const name = cleanServiceName(rawName);
  if (await nameTaken(db, name, serviceId)) throw new ServiceError('name-taken');
  await db.updateTable('services').set({ name, updated_at: new Date() }).where('id', '=', serviceId).execute();
}

/** The From header's name (blank: the service's name) and the part of the address before the @. */
export async function setEmailSender(
  db: Db,
  serviceId: string,
  input: { senderName: string; localPart: string },
): Promise<void> {
  const senderName = input.senderName.trim().replace(/\s+/g, ' ');
  if (senderName.length > NAME_MAX) throw new ServiceError('sender-name-too-long');
  const localPart = cleanLocalPart(input.localPart);
  if (await localPartTaken(db, localPart, serviceId)) throw new ServiceError('local-part-taken');
  await db
    .updateTable('services')
    .set({ email_sender_name: senderName || null, email_sender_local_part: localPart, updated_at: new Date() })
    .where('id', '=', serviceId)
    .execute();
}

export async function setRetention(db: Db, serviceId: string, raw: string): Promise<void> {
  const days = /^\d{1,3}$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!(days >= RETENTION_DAYS.min && days <= RETENTION_DAYS.max)) throw new ServiceError('retention-invalid');
  await db
    .updateTable('services')
    .set({ data_retention_days: days, updated_at: new Date() })
    .where('id', '=', serviceId)
    .execute();
}

// Reply-to addresses and text message senders have the same shape: a list with one default, removed by archiving.
type SenderTable = 'email_reply_to' | 'sms_senders';
const VALUE_COLUMN = { email_reply_to: 'email_address', sms_senders: 'sms_sender' } as const;

export async function listSenders(db: Db, table: SenderTable, serviceId: string): Promise<Sender[]> {
  const rows = await db
    .selectFrom(table)
    .select(['id', 'is_default', sql.ref<string>(VALUE_COLUMN[table]).as('value')])
    .where('service_id', '=', serviceId)
    .where('archived', '=', false)
    .orderBy('is_default', 'desc')
    .orderBy('created_at')
    .execute();
  return rows.map((r) => ({ id: r.id, value: r.value, isDefault: r.is_default }));
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
      if (err instanceof InvalidRecipientError) throw new ServiceError('reply-to-invalid');
      throw err;
    }
  } else {
    value = cleanSmsSender(input.value, input.phoneRegion);
  }
  const column = VALUE_COLUMN[table];
  return db.transaction().execute(async (trx) => {
    const current = await listSenders(trx, table, serviceId);
    if (current.some((s) => s.value.toLowerCase() === value.toLowerCase()))
      throw new ServiceError(table === 'email_reply_to' ? 'reply-to-exists' : 'sms-sender-exists');
    const isDefault = input.makeDefault || current.length === 0;
    if (isDefault)
      await trx.updateTable(table).set({ is_default: false }).where('service_id', '=', serviceId).execute();
    // An archived row with the same value comes back rather than colliding with the unique key.
    const revived = await trx
      .updateTable(table)
      .set({ archived: false, is_default: isDefault })
      .where('service_id', '=', serviceId)
      .where(sql.ref(column), '=', value)
      .returning('id')
      .executeTakeFirst();
    const id =
      revived?.id ??
      (
        await trx
          .insertInto(table)
          .values({ service_id: serviceId, [column]: value, is_default: isDefault } as never)
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id;
    return { id, value, isDefault };
  });
}

export async function makeDefaultSender(
  db: Db,
  table: SenderTable,
  serviceId: string,
  senderId: string,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const exists = await trx
      .selectFrom(table)
      .select('id')
      .where('service_id', '=', serviceId)
      .where('id', '=', senderId)
      .where('archived', '=', false)
      .executeTakeFirst();
    if (!exists) return false;
    await trx.updateTable(table).set({ is_default: false }).where('service_id', '=', serviceId).execute();
    await trx
      .updateTable(table)
      .set({ is_default: true })
      .where('service_id', '=', serviceId)
      .where('id', '=', senderId)
      .execute();
    return true;
  });
}

/** Removes one; the default can go only when it is the last (make another the default first). */
export async function removeSender(db: Db, table: SenderTable, serviceId: string, senderId: string): Promise<boolean> {
  const current = await listSenders(db, table, serviceId);
  const target = current.find((s) => s.id === senderId);
  if (!target) return false;
  if (target.isDefault && current.length > 1) throw new ServiceError('default-sender');
  await db
    .updateTable(table)
    .set({ archived: true, is_default: false })
    .where('service_id', '=', serviceId)
    .where('id', '=', senderId)
    .execute();
  return true;
}

// ---- branding ---------------------------------------------------------------------------------------------------

export interface LogoUpload {
  bytes: Uint8Array;
}

/** PNG or JPEG, told by their first bytes (never by the name or type the browser claims). */
export function imageType(bytes: Uint8Array): 'image/png' | 'image/jpeg' | null {
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= 8 && png.every((b, i) => bytes[i] === b)) return 'image/png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  return null;
}

/**
 * Sets the branding of the service's emails. A logo needs alt text in both languages; a new file replaces the
 * stored one, and choosing 'logo' without a file keeps the stored one (there must be one).
 */
export async function setBranding(
  db: Db,
  serviceId: string,
  input: { branding: EmailBranding; logo: LogoUpload | null; altEn: string; altFr: string },
): Promise<void> {
  if (input.branding !== 'logo') {
    await db
      .updateTable('services')
      .set({ email_branding: input.branding, updated_at: new Date() })
      .where('id', '=', serviceId)
      .execute();
    return;
  }
  const problems = logoProblems(input);
  const stored = await db
    .selectFrom('email_logos')
    .select('service_id')
    .where('service_id', '=', serviceId)
    .executeTakeFirst();
  if (!input.logo && !stored) problems.unshift('logo-missing');
  if (problems.length) throw new BrandingError(problems);
  const altEn = input.altEn.trim();
  const altFr = input.altFr.trim();
  await db.transaction().execute(async (trx) => {
    if (input.logo) {
      const values = {
        content_type: imageType(input.logo.bytes)!,
        bytes: input.logo.bytes,
        alt_en: altEn,
        alt_fr: altFr,
        created_at: new Date(),
      };
      await trx
        .insertInto('email_logos')
        .values({ service_id: serviceId, ...values })
        .onConflict((oc) => oc.column('service_id').doUpdateSet(values))
        .execute();
    } else {
      await trx
        .updateTable('email_logos')
        .set({ alt_en: altEn, alt_fr: altFr })
        .where('service_id', '=', serviceId)
        .execute();
    }
    await trx
      .updateTable('services')
      .set({ email_branding: 'logo', updated_at: new Date() })
      .where('id', '=', serviceId)
      .execute();
  });
}

/** Every problem of a logo form at once, so the page can show them all. */
export class BrandingError extends Error {
  constructor(readonly codes: ServiceErrorCode[]) {
    super(codes.join(', '));
    this.name = 'BrandingError';
  }
}

function logoProblems(input: { logo: LogoUpload | null; altEn: string; altFr: string }): ServiceErrorCode[] {
  const problems: ServiceErrorCode[] = [];
  if (input.logo) {
    if (input.logo.bytes.length > LOGO_MAX_BYTES) problems.push('logo-too-big');
    else if (!imageType(input.logo.bytes)) problems.push('logo-type');
  }
  if (!input.altEn.trim()) problems.push('alt-en-missing');
  if (!input.altFr.trim()) problems.push('alt-fr-missing');
  if (input.altEn.trim().length > ALT_TEXT_MAX || input.altFr.trim().length > ALT_TEXT_MAX)
    problems.push('alt-too-long');
  return problems;
}

export async function emailLogo(db: Db, serviceId: string): Promise<{ contentType: string; bytes: Uint8Array } | null> {
  const row = await db
    .selectFrom('email_logos')
    .select(['content_type', 'bytes'])
    .where('service_id', '=', serviceId)
    .executeTakeFirst();
  return row ? { contentType: row.content_type, bytes: row.bytes } : null;
}

// ---- going live ---------------------------------------------------------------------------------------------------

export interface GoLiveChecklist {
  /** Members who can manage the service: at least two, so that it never depends on one person. */
  managers: number;
  hasManagers: boolean;
  templates: { email: number; sms: number };
  hasTemplates: boolean;
  /** A service with email templates needs a reply-to address. */
  needsReplyTo: boolean;
  hasReplyTo: boolean;
  ready: boolean;
}

export async function goLiveChecklist(db: Db, serviceId: string): Promise<GoLiveChecklist> {
  const [managers, templates, replyTos] = await Promise.all([
    db
      .selectFrom('service_users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('service_id', '=', serviceId)
      .where(sql<boolean>`'manage_service' = ANY(permissions)`)
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('templates')
      .select(['type', (eb) => eb.fn.countAll<number>().as('n')])
      .where('service_id', '=', serviceId)
      .where('archived', '=', false)
      .groupBy('type')
      .execute(),
    listSenders(db, 'email_reply_to', serviceId),
  ]);
  const count = (type: string) => Number(templates.find((t) => t.type === type)?.n ?? 0);
  const m = Number(managers.n);
  const t = { email: count('email'), sms: count('sms') };
  const needsReplyTo = t.email > 0;
  const checklist = {
    managers: m,
    hasManagers: m >= 2,
    templates: t,
    hasTemplates: t.email + t.sms > 0,
    needsReplyTo,
    hasReplyTo: replyTos.length > 0,
  };
  return {
    ...checklist,
    ready: checklist.hasManagers && checklist.hasTemplates && (!needsReplyTo || checklist.hasReplyTo),
  };
}

export interface GoLiveRequest {
  id: string;
  serviceId: string;
  serviceName: string;
  requestedBy: { id: string; name: string; email: string; language: 'en' | 'fr' } | null;
  mainUse: string;
  expectedDailyEmail: number;
  expectedDailySms: number;
  state: 'pending' | 'approved' | 'declined';
  declineReason: string | null;
  createdAt: Date;
  decidedAt: Date | null;
}

function requestQuery(db: Db) {
  return db
    .selectFrom('go_live_requests as r')
    .innerJoin('services as s', 's.id', 'r.service_id')
    .leftJoin('users as u', 'u.id', 'r.requested_by_id')
    .select([
      'r.id',
      'r.service_id',
      's.name as service_name',
      'u.id as user_id',
      'u.name as user_name',
      'u.email_address as user_email',
      'u.language as user_language',
      'r.main_use',
      'r.expected_daily_email',
      'r.expected_daily_sms',
      'r.state',
      'r.decline_reason',
      'r.created_at',
      'r.decided_at',
    ]);
}

type RequestRow = Awaited<ReturnType<ReturnType<typeof requestQuery>['execute']>>[number];

function toRequest(r: RequestRow): GoLiveRequest {
  return {
    id: r.id,
    serviceId: r.service_id,
    serviceName: r.service_name,
    requestedBy: r.user_id
      ? { id: r.user_id, name: r.user_name ?? '', email: r.user_email ?? '', language: r.user_language ?? 'en' }
      : null,
    mainUse: r.main_use,
    expectedDailyEmail: r.expected_daily_email,
    expectedDailySms: r.expected_daily_sms,
    state: r.state,
    declineReason: r.decline_reason,
    createdAt: r.created_at,
    decidedAt: r.decided_at,
  };
}

/** The service's latest request, whatever its state. */
export async function latestGoLiveRequest(db: Db, serviceId: string): Promise<GoLiveRequest | null> {
  const row = await requestQuery(db)
    .where('r.service_id', '=', serviceId)
    .orderBy('r.created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? toRequest(row) : null;
}

export async function pendingGoLiveRequests(db: Db): Promise<GoLiveRequest[]> {
  return (await requestQuery(db).where('r.state', '=', 'pending').orderBy('r.created_at').execute()).map(toRequest);
}

export async function goLiveRequest(db: Db, requestId: string): Promise<GoLiveRequest | null> {
  const row = await requestQuery(db).where('r.id', '=', requestId).executeTakeFirst();
  return row ? toRequest(row) : null;
}

/** Parses a daily volume typed by a person: digits, maybe with spaces or commas between thousands. */
export function parseVolume(raw: string): number | null {
  const cleaned = raw.trim().replace(/[\s,\u00a0\u202f]/g, '');
  if (!/^\d{1,9}$/.test(cleaned)) return null;
  return Number(cleaned);
}

export async function requestGoLive(
  db: Db,
  input: {
    serviceId: string;
    userId: string;
    mainUse: string;
    expectedDailyEmail: string;
    expectedDailySms: string;
    ip: string | null;
  },
): Promise<GoLiveRequest> {
  const service = await serviceSettings(db, input.serviceId);
  if (!service) throw new ServiceError('not-found');
  if (!service.restricted) throw new ServiceError('already-live');
  const pending = await latestGoLiveRequest(db, input.serviceId);
  if (pending?.state === 'pending') throw new ServiceError('already-requested');
  if (!(await goLiveChecklist(db, input.serviceId)).ready) throw new ServiceError('not-ready');
  const mainUse = input.mainUse.trim();
  if (!mainUse) throw new ServiceError('main-use-missing');
  const email = parseVolume(input.expectedDailyEmail);
  const sms = parseVolume(input.expectedDailySms);
  if (email === null || sms === null) throw new ServiceError('volume-invalid');
  try {
    await db
      .insertInto('go_live_requests')
      .values({
        service_id: input.serviceId,
        requested_by_id: input.userId,
        main_use: mainUse.slice(0, MAIN_USE_MAX),
        expected_daily_email: email,
        expected_daily_sms: sms,
      })
      .execute();
  } catch (err) {
    // The partial unique index: someone else asked at the same moment.
    if ((await latestGoLiveRequest(db, input.serviceId))?.state === 'pending')
      throw new ServiceError('already-requested');
    throw err;
  }
  await recordAudit(db, {
    event: 'go-live-requested',
    actorId: input.userId,
    userId: input.userId,
    ip: input.ip,
    details: { serviceId: input.serviceId },
  });
  return (await latestGoLiveRequest(db, input.serviceId))!;
}

/**
 * A platform admin decides. Approving makes the service live (restricted off, limits raised to the live ones if
 * they were lower); declining keeps it in trial with the reason, which the requester is told.
 */
export async function decideGoLive(
  db: Db,
  input: { requestId: string; approve: boolean; reason: string; actorId: string; ip: string | null },
): Promise<GoLiveRequest | null> {
  const reason = input.reason.trim();
  if (!input.approve && !reason) throw new ServiceError('reason-missing');
  const decided = await db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('go_live_requests')
      .set({
        state: input.approve ? 'approved' : 'declined',
        decided_by_id: input.actorId,
        decided_at: new Date(),
        decline_reason: input.approve ? null : reason,
      })
      .where('id', '=', input.requestId)
      .where('state', '=', 'pending')
      .returning('service_id')
      .executeTakeFirst();
    if (!row) return null;
    if (input.approve) {
      await trx
        .updateTable('services')
        .set({
          restricted: false,
          go_live_at: new Date(),
          email_message_limit: sql<number>`greatest(email_message_limit, ${LIVE_DAILY_LIMITS.email})`,
          sms_message_limit: sql<number>`greatest(sms_message_limit, ${LIVE_DAILY_LIMITS.sms})`,
          updated_at: new Date(),
        })
        .where('id', '=', row.service_id)
        .execute();
    }
    await recordAudit(trx, {
      event: input.approve ? 'go-live-approved' : 'go-live-declined',
      actorId: input.actorId,
      userId: null,
      ip: input.ip,
      details: { serviceId: row.service_id, ...(input.approve ? {} : { reason }) },
    });
    return row.service_id;
  });
  return decided ? goLiveRequest(db, input.requestId) : null;
}

// ---- platform admin ---------------------------------------------------------------------------------------------

export async function setServiceActive(
  db: Db,
  input: { serviceId: string; active: boolean; actorId: string; ip: string | null },
): Promise<boolean> {
  const row = await db
    .updateTable('services')
    .set({ active: input.active, suspended_at: input.active ? null : new Date(), updated_at: new Date() })
    .where('id', '=', input.serviceId)
    .where('active', '=', !input.active)
    .returning(['id', 'name'])
    .executeTakeFirst();
  if (!row) return false;
  await recordAudit(db, {
    event: input.active ? 'service-restored' : 'service-suspended',
    actorId: input.actorId,
    userId: null,
    ip: input.ip,
    details: { serviceId: input.serviceId, serviceName: row.name },
  });
  return true;
}

export interface DailyLimitsInput {
  email: string;
  sms: string;
  internationalSms: string;
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
  if (limitProblems(input).length) throw new ServiceError('limit-invalid');
  const limits = {
    email: parseVolume(input.email)!,
    sms: parseVolume(input.sms)!,
    internationalSms: parseVolume(input.internationalSms)!,
  };
  await db.transaction().execute(async (trx) => {
    // The limits before the change, for the audit log (locked, so that two admins' changes are recorded in order).
    const before = await trx
      .selectFrom('services')
      .select(['name', 'email_message_limit', 'sms_message_limit', 'international_sms_message_limit'])
      .where('id', '=', input.serviceId)
      .forUpdate()
      .executeTakeFirst();
    if (!before) return;
    await trx
      .updateTable('services')
      .set({
        email_message_limit: limits.email,
        sms_message_limit: limits.sms,
        international_sms_message_limit: limits.internationalSms,
        updated_at: new Date(),
      })
      .where('id', '=', input.serviceId)
      .execute();
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

export interface ServiceVolumes extends ServiceSummary {
  /** Messages of the last 7 UTC days (today included), test keys left out. */
  email: number;
  sms: number;
  goLiveRequested: boolean;
}

/** Every service with what it sent in the last 7 days, by name. */
export async function allServicesWithVolumes(db: Db, now = new Date()): Promise<ServiceVolumes[]> {
  const services = await db
    .selectFrom('services')
    .select(['id', 'name', 'restricted', 'active'])
    .orderBy('name')
    .execute();
  const pending = new Set((await pendingGoLiveRequests(db)).map((r) => r.serviceId));
  const to = utcDay(now);
  const from = addDays(to, -6);
  const result: ServiceVolumes[] = [];
  for (const s of services) {
    const figures = await notificationStatistics(db, { serviceId: s.id, from, to });
    const sum = (type: string) =>
      figures.filter((f) => f.notificationType === type && f.keyType !== 'test').reduce((n, f) => n + f.count, 0);
    result.push({ ...s, email: sum('email'), sms: sum('sms'), goLiveRequested: pending.has(s.id) });
  }
  return result;
}
