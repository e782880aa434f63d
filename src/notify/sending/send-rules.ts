/**
 * Accepting a notification: the rules between a validated request and a committed row, in the order Notify
 * applies them (notify-api-v2.md §2): permission, template, personalisation, sender, recipient, length,
 * daily limit, persist. No HTTP here: a failure is a SendRefused carrying a code from refusals.ts, which the API
 * and the admin each word in their own way.
 */
import { randomUUID } from 'node:crypto';
import type { TemplateType, KeyType } from '../vocabulary.ts';
import {
  InvalidRecipientError,
  isSimulatedRecipient,
  normaliseEmail,
  validatePhoneNumber,
  type CountryCode,
} from '../../platform/recipients.ts';
import { SendRefused } from './refusals.ts';
import type { ServiceDirectory, ServiceRecord, TemplateRecord } from './service-directory.ts';
import type { DailyLimits, Reservation } from './limits.ts';
import type { LimitChannel } from './refusals.ts';
import type { NewNotification, NotificationWriter } from './notification-writer.ts';
import {
  missingPersonalisation,
  renderEmailBody,
  renderEmailSubject,
  renderSms,
  sanitisePersonalisation,
  SMS_CHARACTER_LIMIT,
} from '../template-language/index.ts';
import { notificationsAccepted } from '../../platform/metrics.ts';

export const EMAIL_SIZE_LIMIT_BYTES = 2_000_000;
/** How far ahead a notification or a job may be scheduled (GC Notify's limit). */
export const MAX_SCHEDULE_HOURS = 96;
/** Delivery lane (claim order) of a template category: 0 high, 1 normal, 2 bulk. */
export const PRIORITY_OF_CATEGORY = { high: 0, normal: 1, bulk: 2 } as const;

/**
 * Who sends: an API key, a person in the web UI, or (bulk jobs) an operator at the command line; the last two have
 * no key, and the rules of a live key apply.
 */
export interface Caller {
  service: ServiceRecord;
  keyId: string | null;
  keyType: KeyType;
  /** The person who sent it from the web UI; null for API sends (a job names Envoi's system user instead). */
  createdById?: string | null;
}

export interface SendRequest {
  type: TemplateType;
  recipient: string;
  templateId: string;
  personalisation: Record<string, unknown>;
  reference: string | null;
  scheduledFor: Date | null;
  replyToId: string | null;
  oneClickUnsubscribeUrl: string | null;
  sanitiseContentFor: string[] | null;
}

/** A send that gave an Idempotency-Key: the key is stored with its notification, with the answer to repeat. */
export interface IdempotentSend {
  key: string;
  requestHash: string;
  respond(accepted: AcceptedNotification): unknown;
}

export interface AcceptedNotification {
  id: string;
  reference: string | null;
  template: TemplateRecord;
  scheduledFor: Date | null;
  body: string;
  subject: string | null;
  fromNumber: string | null;
  fromEmail: string | null;
  oneClickUnsubscribeUrl: string | null;
  sanitised: Record<string, { unsanitised: string; sanitised: string }> | null;
}

export interface SendContext {
  directory: ServiceDirectory;
  limits: DailyLimits;
  writer: NotificationWriter;
  emailDomain: string;
  phoneRegion: string;
}

/** Daily limit check before the body is read, as Notify does: a service at its limit gets 429 first. */
export async function checkDailyLimitBeforeParsing(
  ctx: SendContext,
  caller: Caller,
  type: TemplateType,
): Promise<void> {
  if (caller.keyType === 'test') return;
  const limit = caller.service.messageLimits[type];
  if ((await ctx.limits.remaining(caller.service.id, type, limit)) <= 0) {
    throw new SendRefused({ code: 'daily-limit', channel: type, limit });
  }
}

export async function acceptNotification(
  ctx: SendContext,
  caller: Caller,
  req: SendRequest,
  idempotency: IdempotentSend | null = null,
): Promise<AcceptedNotification> {
  const { service } = caller;
  if (!service.permissions.has(req.type)) throw new SendRefused({ code: 'channel-not-allowed', channel: req.type });

  const template = await templateToSend(ctx.directory, service.id, req.templateId, { channel: req.type });

  let personalisation = req.personalisation;
  let sanitised: AcceptedNotification['sanitised'] = null;
  if (req.type === 'email') {
    const result = sanitisePersonalisation(personalisation, req.sanitiseContentFor);
    personalisation = result.personalisation;
    sanitised = result.report;
  }

  const missing = missingPersonalisation(templateTexts(req.type, template), personalisation);
  if (missing.length > 0) throw new SendRefused({ code: 'missing-personalisation', names: missing });

  const unsendable = unsendableField(req, personalisation);
  if (unsendable) throw new SendRefused({ code: 'unsendable-character', field: unsendable });

  const sender = await resolveSender(ctx.directory, service, req.type, req.replyToId);

  const simulated = isSimulatedRecipient(req.type, req.recipient);
  const { normalisedTo, international } = readRecipient(req, ctx.phoneRegion);
  if (!simulated) await checkRecipientAllowed(ctx, caller, normalisedTo);
  if (international && !simulated && !service.permissions.has('international_sms')) {
    throw new SendRefused({ code: 'international-not-allowed' });
  }

  // Sending files by email needs the document download service, which Envoi does not have yet: refuse a
  // file rather than mail its base64 text to the recipient.
  if (
    Object.values(personalisation).some((v) => v !== null && typeof v === 'object' && !Array.isArray(v) && 'file' in v)
  ) {
    throw new SendRefused(
      req.type === 'email' ? { code: 'files-not-set-up', serviceId: service.id } : { code: 'file-by-text' },
    );
  }

  const { body, subject, billableUnits } = renderMessage(template, req.type, personalisation);

  const id = randomUUID();
  const accepted: AcceptedNotification = {
    id,
    reference: req.reference,
    template,
    scheduledFor: req.scheduledFor,
    body,
    subject,
    fromNumber: req.type === 'sms' ? (sender ?? service.name) : null,
    fromEmail: req.type === 'email' ? `${service.emailSenderLocalPart}@${ctx.emailDomain}` : null,
    oneClickUnsubscribeUrl: req.oneClickUnsubscribeUrl,
    sanitised,
  };
  // Smoke-test recipients are validated and answered like any other, but never stored or sent.
  if (simulated) return accepted;

  let reservation: Reservation | null = null;
  if (caller.keyType !== 'test') {
    const limits: Partial<Record<LimitChannel, number>> = { [req.type]: service.messageLimits[req.type] };
    if (international) limits.international_sms = service.messageLimits.international_sms;
    reservation = await ctx.limits.reserve(service.id, limits);
  }

  const row: NewNotification = {
    id,
    service_id: service.id,
    template_id: template.id,
    template_version: template.version,
    api_key_id: caller.keyId,
    key_type: caller.keyType,
    created_by_id: caller.createdById ?? null,
    notification_type: req.type,
    to: req.recipient,
    normalised_to: normalisedTo,
    personalisation,
    client_reference: req.reference,
    subject,
    body,
    reply_to_text: sender,
    one_click_unsubscribe_url: req.oneClickUnsubscribeUrl,
    billable_units: billableUnits,
    priority: PRIORITY_OF_CATEGORY[template.category],
    scheduled_for: req.scheduledFor,
    next_attempt_at: req.scheduledFor ?? new Date(),
  };
  const key = idempotency && {
    service_id: service.id,
    key: idempotency.key,
    request_hash: idempotency.requestHash,
    response: idempotency.respond(accepted),
  };
  await ctx.writer.write(row, reservation, key);
  notificationsAccepted[req.type][caller.keyType].inc();
  return accepted;
}

/** The message as it will be sent, refused when it comes out empty or too long for its channel. */
function renderMessage(
  template: TemplateRecord,
  type: TemplateType,
  personalisation: Record<string, unknown>,
): { body: string; subject: string | null; billableUnits: number } {
  if (type === 'email') {
    const body = renderEmailBody(template.content, personalisation);
    const subject = renderEmailSubject(template.subject ?? '', personalisation);
    if (body.trim() === '') throw new SendRefused({ code: 'empty-message' });
    const size = Buffer.byteLength(body, 'utf8');
    if (size > EMAIL_SIZE_LIMIT_BYTES) {
      throw new SendRefused({ code: 'too-long', channel: 'email', size, limit: EMAIL_SIZE_LIMIT_BYTES });
    }
    return { body, subject, billableUnits: 0 };
  }
  const sms = renderSms(template.content, personalisation);
  if (sms.body.trim() === '') throw new SendRefused({ code: 'empty-message' });
  if (sms.characterCount > SMS_CHARACTER_LIMIT) {
    throw new SendRefused({ code: 'too-long', channel: 'sms', size: sms.characterCount, limit: SMS_CHARACTER_LIMIT });
  }
  return { body: sms.body, subject: null, billableUnits: sms.fragmentCount };
}

/** A NUL (PostgreSQL's text cannot hold it) or half of a surrogate pair (UTF-8 cannot encode it). */
const UNSENDABLE_CHARACTER = /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function holdsUnsendable(value: unknown): boolean {
  if (typeof value === 'string') return UNSENDABLE_CHARACTER.test(value);
  if (Array.isArray(value)) return value.some(holdsUnsendable);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).some(([key, inner]) => UNSENDABLE_CHARACTER.test(key) || holdsUnsendable(inner));
  }
  return false;
}

/** The first field of the request that holds such a character, named as the API names it; null when none does. */
function unsendableField(req: SendRequest, personalisation: Record<string, unknown>): string | null {
  if (req.reference !== null && holdsUnsendable(req.reference)) return 'reference';
  if (req.oneClickUnsubscribeUrl !== null && holdsUnsendable(req.oneClickUnsubscribeUrl))
    return 'one_click_unsubscribe_url';
  for (const [key, value] of Object.entries(personalisation)) {
    if (holdsUnsendable(key) || holdsUnsendable(value))
      return `personalisation ${key.replace(new RegExp(UNSENDABLE_CHARACTER, 'g'), '?')}`;
  }
  return null;
}

/**
 * The template a send (on `channel`) or a bulk job names. Refused when it is missing or hidden, when a send's
 * channel is not the template's type, or when it is archived (a job's refusal names the template).
 */
export async function templateToSend(
  directory: ServiceDirectory,
  serviceId: string,
  templateId: string,
  sending: { channel: TemplateType } | 'job',
): Promise<TemplateRecord> {
  const template = await directory.template(serviceId, templateId);
  if (!template || template.hidden) throw new SendRefused({ code: 'template-not-found' });
  if (sending === 'job') {
    if (template.archived) throw new SendRefused({ code: 'job-template-deleted', templateId: template.id });
    return template;
  }
  if (template.type !== sending.channel)
    throw new SendRefused({ code: 'template-wrong-type', templateType: template.type, channel: sending.channel });
  if (template.archived) throw new SendRefused({ code: 'template-deleted' });
  return template;
}

/** The texts whose placeholders a send must fill: an email's subject and body, a text message's body. */
export function templateTexts(type: TemplateType, template: { subject: string | null; content: string }): string[] {
  return type === 'email' ? [template.subject ?? '', template.content] : [template.content];
}

/**
 * Who a caller may send to: anyone (null), or only the team and guest list: a team key's sends, and a live key's
 * while its service is in trial mode.
 */
export function recipientRestriction(caller: Caller): 'team-key' | 'trial-mode' | null {
  if (caller.keyType === 'team') return 'team-key';
  return caller.keyType === 'normal' && caller.service.restricted ? 'trial-mode' : null;
}

/** A scheduled time must be in the future and at most 96 hours away (the API checks a single send's in its own words). */
export function checkSchedule(at: Date | null): void {
  if (!at) return;
  if (at.getTime() < Date.now()) throw new SendRefused({ code: 'scheduled-in-past' });
  if (at.getTime() > Date.now() + MAX_SCHEDULE_HOURS * 3_600_000) {
    throw new SendRefused({ code: 'scheduled-too-far', maxHours: MAX_SCHEDULE_HOURS });
  }
}

/** The reply-to address or text sender chosen by id (or the service's default): its value, kept on each row. */
export async function resolveSender(
  directory: ServiceDirectory,
  service: ServiceRecord,
  type: TemplateType,
  replyToId: string | null,
): Promise<string | null> {
  if (type === 'email') {
    const replyTos = await directory.replyTos(service.id);
    if (replyToId) {
      const found = replyTos.find((r) => r.id === replyToId);
      if (!found) throw unknownSender(type, replyToId, service.id);
      return found.value;
    }
    return replyTos.find((r) => r.isDefault)?.value ?? null;
  }
  const senders = await directory.smsSenders(service.id);
  if (replyToId) {
    const found = senders.find((s) => s.id === replyToId);
    if (!found) throw unknownSender(type, replyToId, service.id);
    return found.value;
  }
  return senders.find((s) => s.isDefault)?.value ?? null;
}

async function checkRecipientAllowed(ctx: SendContext, caller: Caller, normalisedTo: string) {
  const restriction = recipientRestriction(caller);
  if (!restriction) return;
  const allowed = await ctx.directory.allowedRecipients(caller.service.id);
  if (allowed.has(normalisedTo)) return;
  throw new SendRefused({ code: 'recipient-not-allowed', restriction });
}

const unknownSender = (channel: TemplateType, senderId: string, serviceId: string) =>
  new SendRefused({ code: 'unknown-sender', channel, senderId, serviceId });

/** The recipient's comparable form, and whether it is a phone number abroad; refuses one that is not valid. */
function readRecipient(req: SendRequest, phoneRegion: string): { normalisedTo: string; international: boolean } {
  try {
    if (req.type === 'email') {
      // Already validated with the request's schema: only the comparable form is needed here.
      return { normalisedTo: normaliseEmail(req.recipient), international: false };
    }
    const phone = validatePhoneNumber(req.recipient, { defaultRegion: phoneRegion as CountryCode });
    return { normalisedTo: phone.e164, international: phone.international };
  } catch (err) {
    if (err instanceof InvalidRecipientError)
      throw new SendRefused({ code: 'invalid-recipient', problem: err.problem });
    throw err;
  }
}
