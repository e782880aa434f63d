/**
 * Amazon SNS HTTPS deliveries: the message checks and signature verification AWS documents ("Verifying the
 * signatures of Amazon SNS messages"), and subscription confirmation.
 *
 * The trust root is the TLS verification of the HTTPS fetch of SigningCertURL, whose host must be an SNS host: only
 * AWS can serve a certificate from there. By default that is the system CAs; tests pass their own CA and a DNS
 * lookup that points the SNS host at a local server.
 */
import { verify as verifySignature, X509Certificate, type KeyObject } from 'node:crypto';
import https from 'node:https';
import type { LookupFunction } from 'node:net';

export type SnsMessageType = 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';

export interface SnsMessage {
  Type: SnsMessageType;
  MessageId: string;
  TopicArn: string;
  /** For a Notification: the payload (here, a JSON event); for confirmations, AWS's explanation. */
  Message: string;
  Timestamp: string;
  Subject?: string;
  SubscribeURL?: string;
  Token?: string;
}

/**
 * `malformed`: not an SNS message (400). `forbidden`: the signature or its certificate does not hold (403).
 * `unavailable`: the certificate or the confirmation URL could not be fetched (503, so SNS tries again).
 */
export class SnsError extends Error {
  constructor(
    readonly kind: 'malformed' | 'forbidden' | 'unavailable',
    message: string,
  ) {
    super(message);
  }
}

export interface SnsVerifierOptions {
  /** Trusted CAs for the certificate fetch; default: the system's. */
  ca?: string | Buffer;
  /** DNS lookup for the fetches (tests point SNS hosts at 127.0.0.1). */
  lookup?: LookupFunction;
  /** When given, messages from any other topic are refused (and never confirmed). */
  topicArns?: string[];
  timeoutMs?: number;
}

export interface SnsVerifier {
  /** The message, once its shape, topic, certificate URL and signature have been checked; throws SnsError. */
  verify(body: unknown): Promise<SnsMessage>;
  /** Visits the SubscribeURL of a verified SubscriptionConfirmation (an SNS host, over HTTPS); throws SnsError. */
  confirmSubscription(message: SnsMessage): Promise<void>;
}

const SNS_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;
const TYPES: readonly SnsMessageType[] = ['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation'];
const ALGORITHMS: Record<string, string> = { '1': 'sha1', '2': 'sha256' };
const CERT_CACHE_MAX = 32;
const CERT_MAX_BYTES = 64 * 1024;

/** The fields signed, in order, for each message type; a Notification's Subject only when present. */
const SIGNED_FIELDS: Record<SnsMessageType, readonly (keyof SnsMessage)[]> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
};

/** The string SNS signs: "Name\nvalue\n" for each signed field, in the documented order. */
export function canonicalSnsString(message: SnsMessage): string {
  let text = '';
  for (const field of SIGNED_FIELDS[message.Type]) {
    const value = message[field];
    if (value === undefined) continue;
    text += `${field}\n${value}\n`;
  }
  return text;
}

/** An https URL on an SNS host, or an SnsError naming what is wrong. */
export function snsUrl(raw: unknown, what: string): URL {
  if (typeof raw !== 'string') throw new SnsError('malformed', `${what} is missing`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SnsError('malformed', `${what} is not a URL`);
  }
  if (url.protocol !== 'https:') throw new SnsError('forbidden', `${what} must use https`);
  if (!SNS_HOST.test(url.hostname) || url.username !== '' || url.password !== '') {
    throw new SnsError('forbidden', `${what} is not on an Amazon SNS host`);
  }
  return url;
}

function parseMessage(body: unknown): { message: SnsMessage; signature: Buffer; algorithm: string; certUrl: URL } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new SnsError('malformed', 'the body is not an SNS message (a JSON object)');
  }
  const fields = body as Record<string, unknown>;
  const type = fields.Type;
  if (typeof type !== 'string' || !TYPES.includes(type as SnsMessageType)) {
    throw new SnsError('malformed', 'Type must be Notification, SubscriptionConfirmation or UnsubscribeConfirmation');
  }
  const message = { Type: type } as SnsMessage;
  for (const field of SIGNED_FIELDS[type as SnsMessageType]) {
    if (field === 'Type') continue;
    const value = fields[field];
    if (value === undefined && field === 'Subject') continue;
    // Subject may be null in a Notification: then it is not signed.
    if (value === null && field === 'Subject') continue;
    if (typeof value !== 'string') throw new SnsError('malformed', `${field} is missing`);
    (message as unknown as Record<string, string>)[field] = value;
  }
  const algorithm = ALGORITHMS[String(fields.SignatureVersion)];
  if (!algorithm) throw new SnsError('malformed', 'SignatureVersion must be 1 or 2');
  if (typeof fields.Signature !== 'string' || fields.Signature === '')
    throw new SnsError('malformed', 'Signature is missing');
  const certUrl = snsUrl(fields.SigningCertURL, 'SigningCertURL');
  return { message, signature: Buffer.from(fields.Signature, 'base64'), algorithm, certUrl };
}

/** Node's codes for a TLS peer that could not be verified: the certificate host is not who it says. */
function isTlsRefusal(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('ERR_TLS') || /CERT|SIGNATURE|ISSUER/.test(code));
}

export function createSnsVerifier(opts: SnsVerifierOptions = {}): SnsVerifier {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const topics = opts.topicArns ? new Set(opts.topicArns) : null;
  const certificates = new Map<string, Promise<KeyObject>>();

  function get(url: URL, maxBytes: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const request = https.get(
        url,
        {
          agent: false,
          timeout: timeoutMs,
          ...(opts.ca ? { ca: opts.ca } : {}),
          ...(opts.lookup ? { lookup: opts.lookup } : {}),
        },
        (response) => {
          if (response.statusCode !== 200) {
            response.resume();
            reject(new SnsError('unavailable', `${url.host} answered ${response.statusCode}`));
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBytes) {
              request.destroy();
              reject(new SnsError('forbidden', `${url.host} sent more than ${maxBytes} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          response.on('end', () => resolve(Buffer.concat(chunks)));
          response.on('error', reject);
        },
      );
      request.on('timeout', () => request.destroy(new SnsError('unavailable', `${url.host} did not answer in time`)));
      request.on('error', (err) => {
        if (err instanceof SnsError) reject(err);
        else if (isTlsRefusal(err))
          reject(new SnsError('forbidden', `${url.host} is not a trusted SNS host: ${err.message}`));
        else reject(new SnsError('unavailable', `${url.host} could not be reached: ${err.message}`));
      });
    });
  }

  async function fetchKey(url: URL): Promise<KeyObject> {
    const pem = await get(url, CERT_MAX_BYTES);
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(pem);
    } catch {
      throw new SnsError('forbidden', 'SigningCertURL did not serve a certificate');
    }
    const now = Date.now();
    if (now < Date.parse(certificate.validFrom) || now > Date.parse(certificate.validTo)) {
      throw new SnsError('forbidden', 'the SNS signing certificate is not valid now');
    }
    return certificate.publicKey;
  }

  function signingKey(url: URL): Promise<KeyObject> {
    const key = url.toString();
    let entry = certificates.get(key);
    if (!entry) {
      // AWS rotates the certificate rarely and under a new URL: a small cache spares a fetch per message.
      if (certificates.size >= CERT_CACHE_MAX) certificates.delete(certificates.keys().next().value!);
      entry = fetchKey(url);
      certificates.set(key, entry);
      entry.catch(() => certificates.delete(key));
    }
    return entry;
  }

  return {
    async verify(body) {
      const { message, signature, algorithm, certUrl } = parseMessage(body);
      if (topics && !topics.has(message.TopicArn))
        throw new SnsError('forbidden', `topic ${message.TopicArn} is not expected here`);
      const key = await signingKey(certUrl);
      const valid = verifySignature(algorithm, Buffer.from(canonicalSnsString(message), 'utf8'), key, signature);
      if (!valid) throw new SnsError('forbidden', 'the SNS signature does not match the message');
      return message;
    },

    async confirmSubscription(message) {
      const url = snsUrl(message.SubscribeURL, 'SubscribeURL');
      await get(url, CERT_MAX_BYTES);
    },
  };
}
