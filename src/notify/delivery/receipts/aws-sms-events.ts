/**
 * AWS End User Messaging SMS (pinpoint-sms-voice-v2) through SNS: delivery events for texts Envoi sent, found by
 * their `messageId` (provider 'aws-sms'), and two-way SMS replies from the public.
 *
 * Event types as AWS lists them ("Event types for SMS, MMS, and voice"), mapped as GC Notify does
 * (gc-notify.md §1.5, `determine_pinpoint_status`) where it decides:
 *
 *   TEXT_DELIVERED, TEXT_SUCCESSFUL with isFinal          → delivered
 *   TEXT_SUCCESSFUL not final, TEXT_QUEUED, TEXT_PENDING  → pending (the carrier has it)
 *   TEXT_BLOCKED, TEXT_CARRIER_BLOCKED                    → temporary-failure
 *   TEXT_CARRIER_UNREACHABLE                              → temporary-failure
 *   TEXT_SPAM, TEXT_INVALID, TEXT_UNREACHABLE,
 *   TEXT_TTL_EXPIRED, TEXT_UNKNOWN                        → permanent-failure
 *   TEXT_INVALID_MESSAGE, TEXT_PROTECT_BLOCKED            → technical-failure (the message or the account's own
 *                                                           protect rules, not the number)
 *   a status saying the number opted out (messageStatus OPTED_OUT or "opted out" in its description)
 *                                                         → permanent-failure, number suppressed (opted-out)
 *
 * Events may also come wrapped in an EventBridge envelope (source aws.sms-voice, the event in `detail`).
 */
import type { InboundText } from './inbound.ts';
import { eventTime, ReceiptFormatError } from './ses-events.ts';
import type { StatusReceipt } from './types.ts';

type Fields = Record<string, unknown>;

function object(value: unknown): Fields | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Fields) : null;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

const STATUS_OF_EVENT: Record<string, StatusReceipt['status']> = {
  TEXT_DELIVERED: 'delivered',
  TEXT_QUEUED: 'pending',
  TEXT_PENDING: 'pending',
  TEXT_BLOCKED: 'temporary-failure',
  TEXT_CARRIER_BLOCKED: 'temporary-failure',
  TEXT_CARRIER_UNREACHABLE: 'temporary-failure',
  TEXT_SPAM: 'permanent-failure',
  TEXT_INVALID: 'permanent-failure',
  TEXT_UNREACHABLE: 'permanent-failure',
  TEXT_TTL_EXPIRED: 'permanent-failure',
  TEXT_UNKNOWN: 'permanent-failure',
  TEXT_INVALID_MESSAGE: 'technical-failure',
  TEXT_PROTECT_BLOCKED: 'technical-failure',
};

function optedOut(event: Fields): boolean {
  return event.messageStatus === 'OPTED_OUT' || /opted[ -]?out/i.test(text(event.messageStatusDescription) ?? '');
}

/**
 * The receipt one End User Messaging event makes, or null for events that change nothing (voice, media,
 * TEXT_SENT). Throws ReceiptFormatError when the payload is not such an event.
 */
export function awsSmsEventReceipt(payload: unknown, snsTime: Date): StatusReceipt | null {
  let event = object(payload);
  if (event && event.source === 'aws.sms-voice' && object(event.detail)) event = object(event.detail);
  const type = text(event?.eventType);
  if (!event || !type) throw new ReceiptFormatError('not an End User Messaging event: eventType is required');
  if (!type.startsWith('TEXT_')) return null;
  const messageId = text(event.messageId);
  if (!messageId) throw new ReceiptFormatError('an End User Messaging text event needs a messageId');

  let status = STATUS_OF_EVENT[type];
  if (type === 'TEXT_SUCCESSFUL') status = event.isFinal === true ? 'delivered' : 'pending';
  if (!status) return null;
  const receipt: StatusReceipt = {
    kind: 'status',
    target: { provider: 'aws-sms', reference: messageId },
    status,
    response: (text(event.messageStatusDescription) ?? text(event.messageStatus) ?? type).slice(0, 500),
    at: eventTime(event.eventTimestamp, snsTime),
  };
  if (status !== 'delivered' && status !== 'pending' && optedOut(event)) {
    receipt.status = 'permanent-failure';
    receipt.suppress = 'opted-out';
  }
  return receipt;
}

/**
 * A two-way SMS reply (originationNumber, destinationNumber, messageBody, inboundMessageId). It carries no time
 * of its own: `snsTime`, when SNS published it, stands for when it was received.
 */
export function awsSmsInboundText(payload: unknown, snsTime: Date): InboundText {
  const message = object(payload);
  const from = text(message?.originationNumber);
  const to = text(message?.destinationNumber);
  const content = message?.messageBody;
  if (!message || !from || !to || typeof content !== 'string') {
    throw new ReceiptFormatError(
      'not a two-way SMS message: originationNumber, destinationNumber and messageBody are required',
    );
  }
  return { from, to, content, receivedAt: snsTime, reference: text(message.inboundMessageId) ?? null };
}
