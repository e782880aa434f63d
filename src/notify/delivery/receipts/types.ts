/**
 * What every receipt source (SES and End User Messaging events through SNS, Twilio status callbacks, SMTP bounce
 * reports) turns a provider's event into, and the one sink that applies them in batches (receipts/applier.ts).
 */

/** Find the notification by the provider's own message id, or directly by its id (VERP bounces carry it). */
export type ReceiptTarget = { provider: string; reference: string } | { notificationId: string };

export interface StatusReceipt {
  kind: 'status';
  target: ReceiptTarget;
  status: 'delivered' | 'sent' | 'pending' | 'permanent-failure' | 'temporary-failure' | 'technical-failure';
  /** The provider's own words, kept in provider_response for support staff. */
  response: string;
  /** When the provider says it happened. */
  at: Date;
  /** Put the recipient on the service's suppression list (a hard bounce, an opt-out). */
  suppress?: 'hard-bounce' | 'opted-out';
  /**
   * A bounce may arrive after a relay accepted the message and it was marked `delivered`: such a receipt may still
   * turn `delivered` into a failure. Any other receipt for a final notification is dropped.
   */
  bounce?: boolean;
}

export interface ComplaintReceipt {
  kind: 'complaint';
  target: ReceiptTarget;
  complaintType: string | null;
  at: Date;
}

export type Receipt = StatusReceipt | ComplaintReceipt;

export interface ReceiptSink {
  /**
   * Resolves once the receipts are committed (or logged and dropped): only then may a webhook answer 2xx. `waiting`
   * counts the recent ones whose notification was not found yet (a receipt can beat the worker's commit): they are
   * tried again in memory, and a caller whose sender delivers again (SNS) can ask for that too, so that a crash
   * loses nothing.
   */
  submit(receipts: Receipt[]): Promise<{ waiting: number }>;
}
