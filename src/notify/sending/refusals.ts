/**
 * Why Envoi refuses a send or a bulk job: a closed catalogue of codes, each with the facts its words need. Domain
 * code throws SendRefused with one of them and says nothing of HTTP or of wording: the v2 API words each code as
 * Notify does (api/v2/refusal-wire.ts), the admin in the page's language (admin/refusal-words.ts), each in one
 * table keyed by code, so that the compiler refuses a new code either of them forgot.
 */
import type { JobStatus, KeyType, TemplateType } from '../vocabulary.ts';
import type { RecipientProblem } from '../../platform/recipients.ts';

/** The daily limits a send counts against: international text messages have a limit of their own. */
export type LimitChannel = 'email' | 'sms' | 'international_sms';

export type Refusal =
  /** The per-minute bucket of the service's key type is empty. */
  | { code: 'rate-limit'; keyType: KeyType; limit: number }
  /** The service has sent its day's messages on a channel. */
  | { code: 'daily-limit'; channel: LimitChannel; limit: number }
  | { code: 'channel-not-allowed'; channel: TemplateType }
  | { code: 'template-not-found' }
  | { code: 'template-wrong-type'; templateType: TemplateType; channel: TemplateType }
  | { code: 'template-deleted' }
  /** The same, for a bulk job, whose answer names the template. */
  | { code: 'job-template-deleted'; templateId: string }
  | { code: 'missing-personalisation'; names: string[] }
  /** `field` is named as the API names it (`reference`, `personalisation name`). */
  | { code: 'unsendable-character'; field: string }
  /** The chosen reply-to address or text sender is not one of the service's. */
  | { code: 'unknown-sender'; channel: TemplateType; senderId: string; serviceId: string }
  | { code: 'invalid-recipient'; problem: RecipientProblem }
  /** A team key, or a service in trial mode, sending outside the team and guest list. */
  | { code: 'recipient-not-allowed'; restriction: 'team-key' | 'trial-mode' }
  | { code: 'international-not-allowed' }
  /** A file to send by email, which needs the service's contact details (and a service Envoi does not have yet). */
  | { code: 'files-not-set-up'; serviceId: string }
  | { code: 'file-by-text' }
  | { code: 'empty-message' }
  /** `size` and `limit` are bytes for an email, characters for a text message. */
  | { code: 'too-long'; channel: TemplateType; size: number; limit: number }
  | { code: 'scheduled-in-past' }
  | { code: 'scheduled-too-far'; maxHours: number }
  | { code: 'job-not-found' }
  | { code: 'job-not-cancellable'; status: JobStatus };

export type RefusalCode = Refusal['code'];
export type RefusalOf<C extends RefusalCode> = Extract<Refusal, { code: C }>;

/** What domain code throws when it refuses; callers that can say why to someone catch it and read `refusal`. */
export class SendRefused extends Error {
  constructor(readonly refusal: Refusal) {
    // The code, not words: logs need no more, and nobody may read a cause back from text.
    super(refusal.code);
    this.name = 'SendRefused';
  }
}
