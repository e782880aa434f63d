/**
 * Amazon SES events (event publishing through a configuration set, `eventType`; and the older identity
 * notifications, `notificationType`) turned into receipts for the notification whose provider reference is
 * `mail.messageId`. Mapping as GC Notify's (gc-notify.md §1.5):
 *
 *   Delivery                         → delivered
 *   Bounce Permanent                 → permanent-failure, recipient suppressed (hard-bounce)
 *   Bounce Transient / Undetermined  → temporary-failure
 *   Complaint                        → a complaint (status unchanged); complaintSubType OnAccountSuppressionList
 *                                      also → permanent-failure, as SES then never sent it
 *   Reject                           → technical-failure: SES refused the content (a virus), so the address is
 *                                      not at fault and the same message would be refused again
 *
 * Every bounce may follow a Delivery (the receiving server accepted, then bounced), so bounces carry `bounce`.
 * Other event types (Send, Open, Click, DeliveryDelay, Rendering Failure, Subscription) change nothing.
 */
import type { Receipt, StatusReceipt } from './types.ts';

/** The payload of a verified SNS message is not the event it should be: the webhook answers 400. */
export class ReceiptFormatError extends Error {}

type Fields = Record<string, unknown>;

function object(value: unknown): Fields | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Fields) : null;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** A provider's timestamp, or `fallback` (the SNS message's) when it is absent or unreadable. */
export function eventTime(value: unknown, fallback: Date): Date {
  const date = typeof value === 'number' ? new Date(value) : typeof value === 'string' ? new Date(value) : null;
  return date && !Number.isNaN(date.getTime()) ? date : fallback;
}

const PERMANENT_WORDS: Record<string, string> = {
  General: 'Hard bounce: the receiving server says the address does not exist',
  NoEmail: 'Hard bounce: the address does not exist',
  Suppressed: 'Not sent: the address is on the SES suppression list after an earlier hard bounce',
  OnAccountSuppressionList: 'Not sent: the address is on the account-level SES suppression list',
};

const TRANSIENT_WORDS: Record<string, string> = {
  General: 'Soft bounce: the receiving server refused the message for now',
  MailboxFull: 'Soft bounce: the inbox is full',
  MessageTooLarge: 'Soft bounce: the message is too large for the inbox',
  ContentRejected: 'Soft bounce: the receiving server refused the content',
  AttachmentRejected: 'Soft bounce: the receiving server refused an attachment',
};

function bounceReceipt(target: Receipt['target'], bounce: Fields, at: Date): StatusReceipt {
  const type = text(bounce.bounceType) ?? 'Undetermined';
  const subType = text(bounce.bounceSubType) ?? 'General';
  if (type === 'Permanent') {
    return {
      kind: 'status',
      target,
      status: 'permanent-failure',
      response: PERMANENT_WORDS[subType] ?? `Hard bounce (${subType})`,
      at,
      suppress: 'hard-bounce',
      bounce: true,
    };
  }
  return {
    kind: 'status',
    target,
    status: 'temporary-failure',
    response:
      type === 'Transient'
        ? (TRANSIENT_WORDS[subType] ?? `Soft bounce (${subType})`)
        : 'Bounce of an undetermined kind',
    at,
    bounce: true,
  };
}

/**
 * The receipts one SES event makes (none for event types that change nothing). `snsTime` stands in for a missing
 * event timestamp. Throws ReceiptFormatError when the payload is not an SES event.
 */
export function sesEventReceipts(payload: unknown, snsTime: Date): Receipt[] {
  const event = object(payload);
  const mail = object(event?.mail);
  const messageId = text(mail?.messageId);
  const type = text(event?.eventType) ?? text(event?.notificationType);
  if (!event || !type || !messageId)
    throw new ReceiptFormatError('not an SES event: eventType and mail.messageId are required');
  const target = { provider: 'ses', reference: messageId };

  switch (type) {
    case 'Delivery': {
      const delivery = object(event.delivery) ?? {};
      return [
        {
          kind: 'status',
          target,
          status: 'delivered',
          response: text(delivery.smtpResponse)?.slice(0, 500) ?? 'Delivered',
          at: eventTime(delivery.timestamp, snsTime),
        },
      ];
    }
    case 'Bounce': {
      const bounce = object(event.bounce);
      if (!bounce) throw new ReceiptFormatError('an SES Bounce event needs a bounce object');
      return [bounceReceipt(target, bounce, eventTime(bounce.timestamp, snsTime))];
    }
    case 'Complaint': {
      const complaint = object(event.complaint);
      if (!complaint) throw new ReceiptFormatError('an SES Complaint event needs a complaint object');
      const at = eventTime(complaint.timestamp, snsTime);
      const receipts: Receipt[] = [
        {
          kind: 'complaint',
          target,
          complaintType: text(complaint.complaintFeedbackType) ?? text(complaint.complaintSubType),
          at,
        },
      ];
      if (complaint.complaintSubType === 'OnAccountSuppressionList') {
        receipts.push({
          kind: 'status',
          target,
          status: 'permanent-failure',
          response: PERMANENT_WORDS.OnAccountSuppressionList!,
          at,
        });
      }
      return receipts;
    }
    case 'Reject': {
      const reject = object(event.reject) ?? {};
      return [
        {
          kind: 'status',
          target,
          status: 'technical-failure',
          response: `Rejected by SES: ${text(reject.reason) ?? 'no reason given'}`,
          // A Reject has no time of its own: SES publishes it as it refuses.
          at: snsTime,
        },
      ];
    }
    default:
      return [];
  }
}
