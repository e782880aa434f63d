/**
 * Text messages through Twilio's REST Messages API (POST /2010-04-01/Accounts/{sid}/Messages.json), called with
 * fetch: the wire format is a form post with Basic auth, not worth a client library.
 *
 * Sender: as for End User Messaging (aws-sms.ts), a sender that is an E.164 number is used as From (it must be a
 * number of the Twilio account); anything else goes out from config.twilio.from, a number or a Messaging Service
 * (MG…), which then picks the number itself.
 *
 * Idempotency: the Messages API takes no idempotency key (Twilio's I-Twilio-Idempotency-Token is for webhooks
 * Twilio sends, not for requests it receives).
 */
import type { Config } from '../../../platform/config.ts';
import type { ProviderResult, SmsMessage, SmsProvider } from './types.ts';
import { parseRetryAfter } from '../retry-after.ts';

export interface TwilioProviderOptions {
  twilio: Config['twilio'];
  /** Envoi's public origin: when set, Twilio posts status callbacks to /providers/twilio/status under it. */
  publicUrl: string | null;
  /** Well inside the worker's lease, so a hung API becomes a retry rather than a second sender. */
  timeoutMs?: number;
}

const PHONE_NUMBER = /^\+[1-9]\d{6,14}$/;

/**
 * Twilio error codes that refuse this recipient or this message for good. Everything else in 4xx (authentication
 * 20003, an unverified or unowned From 21606/21659, a missing Messaging Service…) is our configuration: retried.
 */
const REFUSED_RECIPIENT = new Map<number, string>([
  [21211, 'invalid phone number'],
  [21265, 'the number is a short code'],
  [21408, 'sending to this region is not enabled'],
  [21610, 'the recipient has unsubscribed (replied STOP)'],
  [21612, 'the number cannot receive text messages from this sender'],
  [21614, 'not a mobile number'],
  [21617, 'the message body is too long'],
  [21635, 'the number is a landline'],
]);

interface TwilioMessage {
  sid?: string;
  status?: string;
}

interface TwilioError {
  code?: number;
  message?: string;
  more_info?: string;
  status?: number;
}

export function createTwilioSmsProvider(opts: TwilioProviderOptions): SmsProvider {
  const { accountSid, authToken, from, apiUrl } = opts.twilio;
  if (!accountSid || !authToken || !from) throw new Error('the twilio provider needs accountSid, authToken and from');
  const endpoint = `${apiUrl}/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Messages.json`;
  const authorization = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
  const statusCallback = opts.publicUrl ? `${opts.publicUrl}/providers/twilio/status` : null;
  const timeoutMs = opts.timeoutMs ?? 15_000;

  return {
    name: 'twilio',
    async send(msg: SmsMessage): Promise<ProviderResult> {
      const form = new URLSearchParams({ To: msg.to, Body: msg.body });
      if (msg.sender && PHONE_NUMBER.test(msg.sender)) form.set('From', msg.sender);
      else if (from.startsWith('MG')) form.set('MessagingServiceSid', from);
      else form.set('From', from);
      if (statusCallback) form.set('StatusCallback', statusCallback);

      let res: Response;
      let text: string;
      try {
        res = await fetch(endpoint, {
          method: 'POST',
          headers: {
            authorization,
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
          },
          body: form,
          redirect: 'error',
          signal: AbortSignal.timeout(timeoutMs),
        });
        text = await res.text();
      } catch (err) {
        // Connection refused or reset, DNS, TLS, the timeout: Twilio may or may not have the message; try again.
        return { outcome: 'retry', response: `Twilio unreachable: ${describeFetchError(err)}` };
      }
      return interpret(res, text);
    },
    close: async () => {},
  };
}

function interpret(res: Response, text: string): ProviderResult {
  const body = parseJson(text);
  if (res.status === 201 || res.status === 200) {
    const message = (body ?? {}) as TwilioMessage;
    return {
      outcome: 'accepted',
      reference: typeof message.sid === 'string' ? message.sid : null,
      response: `Twilio: ${message.status ?? 'accepted'}`,
    };
  }
  const error = (body ?? {}) as TwilioError;
  const code = typeof error.code === 'number' ? error.code : null;
  const response = [
    `${res.status}`,
    code === null ? null : `Twilio error ${code}`,
    error.message ?? (text.slice(0, 200) || null),
  ]
    .filter((part) => part !== null)
    .join(': ');
  if (res.status === 429) {
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
    return retryAfterMs === undefined
      ? { outcome: 'throttled', response }
      : { outcome: 'throttled', response, retryAfterMs };
  }
  if (res.status >= 400 && res.status < 500 && code !== null) {
    const refused = REFUSED_RECIPIENT.get(code);
    if (refused) return { outcome: 'permanent-failure', response: `${refused} (${response})` };
  }
  return { outcome: 'retry', response };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function describeFetchError(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return 'no answer in time';
  return [e.message, e.cause?.code ?? e.cause?.message].filter(Boolean).join(': ');
}
