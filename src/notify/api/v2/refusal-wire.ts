/**
 * Every refusal of the domain (sending/refusals.ts) as Notify answers it: status, error name and message, byte for
 * byte what Notify's clients match on (test/api/errors.test.ts holds them to it). One entry per code; the mapped
 * type makes a new code without an entry a compile error.
 */
import type { KeyType, TemplateType } from '../../vocabulary.ts';
import { recipientProblemText } from '../../../platform/recipients.ts';
import type { Refusal, RefusalCode, RefusalOf } from '../../sending/refusals.ts';
import { ApiError } from './errors.ts';

export interface WireAnswer {
  status: number;
  error: string;
  message: string;
}

const KEY_TYPE_LABEL: Record<KeyType, string> = { normal: 'LIVE', team: 'TEAM', test: 'TEST' };
const CHANNEL_WORDS: Record<TemplateType, string> = { email: 'emails', sms: 'text messages' };

const bad = (message: string): WireAnswer => ({ status: 400, error: 'BadRequestError', message });

/** `siteRoot` ends with `/`: the send-a-file answer names the service's settings page under it. */
type Wording<C extends RefusalCode> = (refusal: RefusalOf<C>, siteRoot: string) => WireAnswer;

const WIRE: { [C in RefusalCode]: Wording<C> } = {
  'rate-limit': (r) => ({
    status: 429,
    error: 'RateLimitError',
    message: `Exceeded rate limit for key type ${KEY_TYPE_LABEL[r.keyType]} of ${r.limit} requests per 60 seconds`,
  }),
  'daily-limit': (r) => ({
    status: 429,
    error: 'TooManyRequestsError',
    message: `Exceeded send limits (${r.channel}: ${r.limit}) for today`,
  }),
  'channel-not-allowed': (r) => bad(`Service is not allowed to send ${CHANNEL_WORDS[r.channel]}`),
  'template-not-found': () => bad('Template not found'),
  'template-wrong-type': (r) => bad(`${r.templateType} template is not suitable for ${r.channel} notification`),
  'template-deleted': () => bad('Template has been deleted'),
  'job-template-deleted': (r) => bad(`Template ${r.templateId} has been deleted`),
  'missing-personalisation': (r) => bad(`Missing personalisation: ${r.names.join(', ')}`),
  'unsendable-character': (r) =>
    bad(`${r.field} contains a character that cannot be sent: a null character or half of a surrogate pair`),
  'unknown-sender': (r) =>
    bad(
      `${r.channel === 'email' ? 'email_reply_to_id' : 'sms_sender_id'} ${r.senderId} does not exist in database for service id ${r.serviceId}`,
    ),
  // Notify's name for it, email addresses included.
  'invalid-recipient': (r) => ({ status: 400, error: 'InvalidPhoneError', message: recipientProblemText(r.problem) }),
  'recipient-not-allowed': (r) =>
    bad(
      r.restriction === 'team-key'
        ? 'Can’t send to this recipient using a team-only API key'
        : 'Can’t send to this recipient when service is in trial mode – see https://www.notifications.service.gov.uk/trial-mode',
    ),
  'international-not-allowed': () => bad('Cannot send to international mobile numbers'),
  'files-not-set-up': (r, siteRoot) =>
    bad(
      `Send files by email has not been set up - add contact details for your service at ${siteRoot}services/${r.serviceId}/service-settings/send-files-by-email`,
    ),
  'file-by-text': () => bad('Can only send a file by email'),
  'empty-message': () => bad('Your message is empty.'),
  'too-long': (r) =>
    bad(
      r.channel === 'email'
        ? `Your message is too long. Emails cannot be longer than ${r.limit} bytes. Your message is ${r.size} bytes.`
        : `Your message is too long. Text messages cannot be longer than ${r.limit} characters. Your message is ${r.size} characters long.`,
    ),
  'scheduled-in-past': () => bad('scheduled_for datetime cannot be in the past'),
  'scheduled-too-far': (r) => bad(`scheduled_for datetime can only be up to ${r.maxHours} hours in the future`),
  'job-not-found': () => ({ status: 404, error: 'NoResultFound', message: 'No result found' }),
  'job-not-cancellable': (r) =>
    bad(r.status === 'cancelled' ? 'Job has already been cancelled' : `Job cannot be cancelled: it is ${r.status}`),
};

export function refusalAnswer(refusal: Refusal, siteRoot: string): WireAnswer {
  // The table's type pairs each code with its own parameters; TypeScript cannot follow that through an index.
  return (WIRE[refusal.code] as Wording<RefusalCode>)(refusal, siteRoot);
}

export function refusalError(refusal: Refusal, siteRoot: string): ApiError {
  const { status, error, message } = refusalAnswer(refusal, siteRoot);
  return new ApiError(status, error, message);
}
