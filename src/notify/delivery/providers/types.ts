/**
 * One small interface per channel. A provider gets a fully rendered message and answers with what happened to
 * it; the worker alone turns that answer into a notification status, retries and backoff.
 */

export interface EmailMessage {
  notificationId: string;
  serviceId: string;
  /** Display name (the service's name) and address (<local part>@<email domain>). */
  from: { name: string; address: string };
  to: string;
  replyTo: string | null;
  subject: string;
  text: string;
  html: string;
  /** `<notification-id@email-domain>`: the same on every attempt, so a resend is recognisably the same message. */
  messageId: string;
  /**
   * Envelope sender (Return-Path) unique to this notification, e.g. `bounce+<id>@<email domain>` (VERP), so that a
   * bounce report finds its notification; null when Envoi does not listen for bounces.
   */
  bounceAddress: string | null;
  /** RFC 8058 one-click unsubscribe link, sent as List-Unsubscribe with List-Unsubscribe-Post. */
  unsubscribeUrl: string | null;
  /** Images the HTML shows as `cid:<contentId>` (the service's logo), sent as inline parts of the message. */
  inlineImages?: InlineImage[];
}

export interface InlineImage {
  /** Without angle brackets. */
  contentId: string;
  filename: string;
  contentType: string;
  content: Uint8Array;
}

export interface SmsMessage {
  notificationId: string;
  serviceId: string;
  to: string;
  /** Sender id or number; null for the provider's default. */
  sender: string | null;
  body: string;
}

/**
 * - `delivered`: the provider took the message and no receipt will follow (SMTP relay 250, sink);
 * - `accepted`: taken, a delivery receipt will settle the status later (status `sending`);
 * - `permanent-failure`: refused for good, e.g. SMTP 5xx for this recipient;
 * - `retry`: could not hand it over this time (4xx, connection trouble, 5xx from an API): try again later;
 * - `throttled`: the provider asks us to slow down (SES TooManyRequests, HTTP 429): the worker slows the lane
 *   down and tries again without counting the attempt against the message.
 * `response` is the provider's own words, kept in provider_response for support staff. `provider` names the
 * provider that really handled the message when the one called delegates (failover.ts); otherwise the caller's name.
 */
export type ProviderResult = (
  | { outcome: 'delivered' | 'accepted'; reference: string | null; response: string }
  | { outcome: 'permanent-failure'; response: string }
  | { outcome: 'retry'; response: string }
  | { outcome: 'throttled'; response: string; retryAfterMs?: number }
) & { provider?: string };

/** send() resolves for every delivery outcome; it rejects only on a bug, which the worker treats as `retry`. */
export interface EmailProvider {
  readonly name: string;
  send(msg: EmailMessage): Promise<ProviderResult>;
  close(): Promise<void>;
}

export interface SmsProvider {
  readonly name: string;
  send(msg: SmsMessage): Promise<ProviderResult>;
  close(): Promise<void>;
}
