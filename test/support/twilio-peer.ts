/**
 * A local stand-in for Twilio's Messages API: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` with HTTP
 * Basic auth (AccountSid:AuthToken) and a form-encoded body. It answers 201 with a Message resource (sid SM…,
 * status "queued"), 401 with error 20003 for wrong credentials, 400 with Twilio's error codes for a missing To,
 * Body or From, and whatever fault a test scripts with fail(). Errors use Twilio's JSON: {code, message,
 * more_info, status}.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const TWILIO_TEST_ACCOUNT = {
  accountSid: `AC${'0123456789abcdef'.repeat(2)}`,
  authToken: 'envoi-twilio-test-auth-token-0001',
};

export interface RecordedTwilioMessage {
  sid: string;
  form: Record<string, string>;
  headers: http.IncomingHttpHeaders;
}

export interface TwilioFault {
  status: number;
  code: number;
  message: string;
  /** Seconds, sent as Retry-After. */
  retryAfter?: number;
}

export const twilioFaults = {
  tooManyRequests: { status: 429, code: 20429, message: 'Too Many Requests', retryAfter: 7 },
  invalidNumber: { status: 400, code: 21211, message: "The 'To' number +1555 is not a valid phone number." },
  unsubscribed: { status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' },
  landline: { status: 400, code: 21614, message: "'To' number is not a valid mobile number" },
  serviceUnavailable: { status: 503, code: 20503, message: 'Service Unavailable' },
} satisfies Record<string, TwilioFault>;

export interface TwilioPeer {
  /** Base URL for TWILIO_API_URL. */
  url: string;
  messages: RecordedTwilioMessage[];
  /** Requests refused for their credentials. */
  unauthorized: number;
  fail(fault: TwilioFault, times?: number): void;
  heal(): void;
  close(): Promise<void>;
}

export async function startTwilioPeer(): Promise<TwilioPeer> {
  const messages: RecordedTwilioMessage[] = [];
  let script: { fault: TwilioFault; times: number } | null = null;
  let unauthorized = 0;
  const path = `/2010-04-01/Accounts/${TWILIO_TEST_ACCOUNT.accountSid}/Messages.json`;
  const expectedAuth = `Basic ${Buffer.from(`${TWILIO_TEST_ACCOUNT.accountSid}:${TWILIO_TEST_ACCOUNT.authToken}`).toString('base64')}`;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== path) {
        return error(res, { status: 404, code: 20404, message: `The requested resource ${req.url} was not found` });
      }
      if (req.headers.authorization !== expectedAuth) {
        unauthorized++;
        return error(res, { status: 401, code: 20003, message: 'Authenticate' });
      }
      if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
        return error(res, { status: 400, code: 20001, message: 'Expected a form-encoded body' });
      }
      const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      if (!form.To) return error(res, { status: 400, code: 21604, message: "A 'To' phone number is required." });
      if (!form.Body) return error(res, { status: 400, code: 21602, message: 'Message body is required.' });
      if (!form.From && !form.MessagingServiceSid) {
        return error(res, { status: 400, code: 21603, message: "A 'From' phone number is required." });
      }
      const sid = `SM${randomBytes(16).toString('hex')}`;
      messages.push({ sid, form, headers: req.headers });
      if (script && script.times > 0) {
        script.times--;
        return error(res, script.fault);
      }
      const now = new Date().toUTCString();
      res.writeHead(201, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          sid,
          account_sid: TWILIO_TEST_ACCOUNT.accountSid,
          messaging_service_sid: form.MessagingServiceSid ?? null,
          to: form.To,
          from: form.From ?? null,
          body: form.Body,
          status: form.MessagingServiceSid ? 'accepted' : 'queued',
          direction: 'outbound-api',
          num_segments: '1',
          date_created: now,
          date_updated: now,
          date_sent: null,
          error_code: null,
          error_message: null,
          price: null,
          api_version: '2010-04-01',
          uri: `/2010-04-01/Accounts/${TWILIO_TEST_ACCOUNT.accountSid}/Messages/${sid}.json`,
        }),
      );
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    messages,
    get unauthorized() {
      return unauthorized;
    },
    fail(fault, times = Number.POSITIVE_INFINITY) {
      script = { fault, times };
    },
    heal() {
      script = null;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function error(res: http.ServerResponse, fault: TwilioFault): void {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
  res.writeHead(fault.status, headers).end(
    JSON.stringify({
      code: fault.code,
      message: fault.message,
      more_info: `https://www.twilio.com/docs/errors/${fault.code}`,
      status: fault.status,
    }),
  );
}
