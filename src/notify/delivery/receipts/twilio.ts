/**
 * Twilio's webhooks: the request signature (X-Twilio-Signature) and what a message status callback means for a
 * notification. The HTTP side is api/providers/twilio.ts.
 *
 * Twilio signs a webhook with HMAC-SHA1, keyed with the account's auth token, over the full URL it requested
 * followed by every POST parameter, sorted by name, written as name then value with nothing between; the digest
 * is sent base64-encoded (https://www.twilio.com/docs/usage/webhooks/webhooks-security).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { StatusReceipt } from './types.ts';

/** The signature Twilio sends for a POST of `params` (in any order, names may repeat) to `url`. */
export function twilioSignature(authToken: string, url: string, params: [string, string][]): string {
  // Sorted by name, then by value for a name that repeats, as Twilio's own helper libraries do.
  const sorted = [...params].sort(([a, av], [b, bv]) => compare(a, b) || compare(av, bv));
  const hmac = createHmac('sha1', authToken);
  hmac.update(url, 'utf8');
  for (const [name, value] of sorted) hmac.update(name + value, 'utf8');
  return hmac.digest('base64');
}

/** Code-unit order (as Twilio's libraries sort), not the locale's. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * True when `signature` is Twilio's for this request. Twilio may sign the URL with or without the scheme's default
 * port depending on how the webhook was configured, so both spellings are tried, as its helper libraries do.
 */
export function verifyTwilioSignature(
  authToken: string,
  signature: string | undefined,
  url: string,
  params: [string, string][],
): boolean {
  if (!signature) return false;
  const given = Buffer.from(signature, 'utf8');
  return urlSpellings(url).some((candidate) => {
    const expected = Buffer.from(twilioSignature(authToken, candidate, params), 'utf8');
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
}

function urlSpellings(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [url];
  }
  const defaultPort = parsed.protocol === 'https:' ? '443' : parsed.protocol === 'http:' ? '80' : null;
  if (defaultPort === null) return [url];
  // URL drops a default port when it parses: rebuild both forms around the authority by hand.
  const rest = url.slice(url.indexOf('//') + 2);
  const slash = rest.search(/[/?#]/);
  const pathAndQuery = slash === -1 ? '' : rest.slice(slash);
  const withoutPort = `${parsed.protocol}//${parsed.hostname}${parsed.port && parsed.port !== defaultPort ? `:${parsed.port}` : ''}`;
  const withPort = `${parsed.protocol}//${parsed.hostname}:${parsed.port || defaultPort}`;
  return [...new Set([url, withoutPort + pathAndQuery, withPort + pathAndQuery])];
}

/**
 * What Twilio's error codes on `undelivered` and `failed` messages say about the recipient
 * (https://www.twilio.com/docs/api/errors). Codes not listed fall back on the status (see twilioStatusReceipt).
 */
const ERROR_CODES: Record<string, { status: StatusReceipt['status']; description: string; suppress?: 'opted-out' }> = {
  '21211': { status: 'permanent-failure', description: "Invalid 'To' phone number" },
  '21408': {
    status: 'technical-failure',
    description: 'Permission to send an SMS has not been enabled for the region',
  },
  '21610': {
    status: 'permanent-failure',
    description: 'The recipient replied STOP: unsubscribed from this sender',
    suppress: 'opted-out',
  },
  '21612': { status: 'permanent-failure', description: "The 'To' phone number is not reachable from this sender" },
  '21614': { status: 'permanent-failure', description: "The 'To' number is not a valid mobile number" },
  '30001': { status: 'temporary-failure', description: 'Queue overflow' },
  '30002': { status: 'technical-failure', description: 'Account suspended' },
  '30003': { status: 'temporary-failure', description: 'Unreachable destination handset' },
  // Blocked for reasons that range from an opt-out to a phone out of coverage: a failure, but too unsure a reason
  // to bar the number for good (21610 is the opt-out itself).
  '30004': { status: 'permanent-failure', description: 'Message blocked' },
  '30005': { status: 'permanent-failure', description: 'Unknown destination handset' },
  '30006': { status: 'permanent-failure', description: 'Landline or unreachable carrier' },
  '30007': { status: 'permanent-failure', description: 'Message filtered by Twilio or the carrier' },
  '30008': { status: 'temporary-failure', description: 'Unknown error' },
  '30009': { status: 'temporary-failure', description: 'Missing segment' },
  '30010': { status: 'technical-failure', description: 'Message price exceeds max price' },
  '30022': { status: 'temporary-failure', description: 'US A2P 10DLC rate limits exceeded' },
  '30032': { status: 'technical-failure', description: 'Toll-free number has not been verified' },
  '30034': { status: 'technical-failure', description: 'Message from an unregistered number (US A2P 10DLC)' },
  '30450': {
    status: 'temporary-failure',
    description: 'Message delivery blocked for a while (SMS pumping protection)',
  },
};

/** Statuses Twilio reports on the way to an outcome: they change nothing here. */
const UNDERWAY = new Set(['accepted', 'scheduled', 'queued', 'sending', 'receiving', 'received']);

export interface TwilioStatusCallback {
  messageSid: string;
  messageStatus: string;
  errorCode: string | null;
  /** ErrorMessage when Twilio sends one (it does for some channels). */
  errorMessage: string | null;
}

/**
 * The receipt a status callback makes, or null when it changes nothing (Twilio still working on it).
 *
 * Twilio's `sent` means a carrier took the message and a delivery report may follow: that is Notify's `pending`
 * ("waiting for more delivery information"), not its final `sent` (international, no receipt), so that a later
 * `delivered` or `undelivered` still applies. Without one the 72-hour timeout settles it.
 */
export function twilioStatusReceipt(cb: TwilioStatusCallback, at: Date): StatusReceipt | null {
  const status = cb.messageStatus.toLowerCase();
  if (UNDERWAY.has(status)) return null;
  const target = { provider: 'twilio', reference: cb.messageSid };
  if (status === 'sent') return { kind: 'status', target, status: 'pending', response: 'sent', at };
  if (status === 'delivered' || status === 'read')
    return { kind: 'status', target, status: 'delivered', response: status, at };
  if (status === 'undelivered' || status === 'failed' || status === 'canceled') {
    const known = cb.errorCode ? ERROR_CODES[cb.errorCode] : undefined;
    const words = known?.description ?? cb.errorMessage ?? null;
    const response = [status, cb.errorCode, words].filter(Boolean).join(' ');
    // Unknown codes: `undelivered` came back from a carrier (the phone, most likely: try again some other time);
    // `failed` and `canceled` never left Twilio, which is a problem between Envoi and its provider.
    const fallback: StatusReceipt['status'] = status === 'undelivered' ? 'temporary-failure' : 'technical-failure';
    return {
      kind: 'status',
      target,
      status: known?.status ?? fallback,
      response,
      at,
      ...(known?.suppress ? { suppress: known.suppress } : {}),
    };
  }
  return null;
}
