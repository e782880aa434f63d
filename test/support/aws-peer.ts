/**
 * A local stand-in for Amazon SES v2 and AWS End User Messaging SMS: a plain HTTP server that receives exactly
 * what the AWS SDK sends, checks its SigV4 signature by signing the request again with the test credentials
 * (@smithy/signature-v4), records it, and answers as the services document:
 *
 * - SES v2 is REST-JSON: `POST /v2/email/outbound-emails`, errors named in the `x-amzn-ErrorType` header with a
 *   `{"message"}` body and the status of the error's HTTP binding (429 TooManyRequestsException, 400 MessageRejected…);
 * - End User Messaging is JSON 1.0: `POST /` with `X-Amz-Target: PinpointSMSVoiceV2.SendTextMessage`, errors as
 *   a 400 with `{"__type", "Message", "Reason", "Fields"}` (500 for InternalServerException).
 *
 * A request signed with another key or secret gets 403 and the error AWS gives (UnrecognizedClientException,
 * InvalidSignatureException). Tests script failures with fail() and read what was sent from `requests`.
 */
import { createHash, createHmac, randomUUID, type BinaryLike } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';

export const AWS_TEST_CREDENTIALS = {
  accessKeyId: 'AKIAENVOITESTKEY0001',
  secretAccessKey: 'envoi/test/secret/key/that/only/the/peer/knows',
};
export const AWS_TEST_REGION = 'ca-central-1';

export type AwsOperation = 'SendEmail' | 'SendTextMessage';

export interface RecordedAwsRequest {
  operation: AwsOperation;
  headers: http.IncomingHttpHeaders;
  /** The JSON body as the SDK sent it. */
  body: Record<string, unknown>;
  /** SES only: the raw MIME message, decoded from Content.Raw.Data. */
  raw: string | null;
  messageId: string;
}

/** An error as the service would return it. */
export interface AwsFault {
  /** HTTP status; by default the one the service uses for this error. */
  status?: number;
  type: string;
  message: string;
  /** End User Messaging's Reason and Fields members. */
  reason?: string;
  fields?: Array<{ Name: string; Message: string }>;
}

export const faults = {
  sesThrottled: { status: 429, type: 'TooManyRequestsException', message: 'Maximum sending rate exceeded.' },
  sesRejected: { status: 400, type: 'MessageRejected', message: 'Illegal address' },
  sesPaused: { status: 400, type: 'SendingPausedException', message: 'Sending is paused for this account.' },
  sesInternal: {
    status: 500,
    type: 'InternalFailure',
    message: 'The request processing has failed because of an unknown error.',
  },
  smsThrottled: { type: 'ThrottlingException', message: 'Rate exceeded' },
  smsInvalidNumber: {
    type: 'ValidationException',
    message: 'Destination phone number is not valid',
    reason: 'FIELD_VALIDATION_FAILED',
    fields: [{ Name: 'DestinationPhoneNumber', Message: 'Value does not match E.164 format' }],
  },
  smsOptedOut: {
    type: 'ConflictException',
    message: 'The destination phone number has opted out.',
    reason: 'DESTINATION_PHONE_NUMBER_OPTED_OUT',
  },
  smsInternal: { status: 500, type: 'InternalServerException', message: 'Internal server error' },
} satisfies Record<string, AwsFault>;

/** The settings that send Envoi's AWS clients to `peer`, signed with the test credentials. */
export function awsPeerEnv(peer: Pick<AwsPeer, 'url'>): Record<string, string> {
  return {
    AWS_REGION: AWS_TEST_REGION,
    AWS_ENDPOINT_URL: peer.url,
    AWS_ACCESS_KEY_ID: AWS_TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: AWS_TEST_CREDENTIALS.secretAccessKey,
  };
}

export interface AwsPeer {
  /** Endpoint for AWS_ENDPOINT_URL. */
  url: string;
  /** Verified requests that reached an operation, answered with success or a scripted fault. */
  requests: RecordedAwsRequest[];
  /** Requests refused because their signature did not verify. */
  refused: number;
  /** Answer the next `times` calls of the operation with this fault (every call when times is omitted). */
  fail(operation: AwsOperation, fault: AwsFault, times?: number): void;
  /** Answer successfully again. */
  heal(operation: AwsOperation): void;
  close(): Promise<void>;
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

/** SHA-256 (or HMAC-SHA256 with a secret) in the shape the signer expects. */
class Sha256 {
  private hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;

  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }

  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }

  reset(): void {
    this.hash = this.fresh();
  }

  private fresh() {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(this.secret));
  }
}

function bytes(data: SourceData): BinaryLike {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** `AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, SignedHeaders=a;b, Signature=hex` */
const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/;

type Verdict = { ok: true } | { ok: false; type: string; message: string };

async function verifySignature(req: http.IncomingMessage, body: Buffer, expectedService: string): Promise<Verdict> {
  const match = AUTHORIZATION.exec(String(req.headers.authorization ?? ''));
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  if (!match || !/^\d{8}T\d{6}Z$/.test(amzDate)) {
    return { ok: false, type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' };
  }
  const [, accessKeyId, , region, service, signedHeaderList, signature] = match;
  if (accessKeyId !== AWS_TEST_CREDENTIALS.accessKeyId) {
    return {
      ok: false,
      type: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    };
  }
  if (service !== expectedService || region !== AWS_TEST_REGION) {
    return {
      ok: false,
      type: 'InvalidSignatureException',
      message: `Credential should be scoped to ${AWS_TEST_REGION}/${expectedService}`,
    };
  }
  const signedHeaders = signedHeaderList!.split(';');
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = req.headers[name];
    if (value === undefined)
      return { ok: false, type: 'InvalidSignatureException', message: `Signed header ${name} is missing` };
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const url = new URL(req.url ?? '/', 'http://peer');
  const signer = new SignatureV4({
    credentials: AWS_TEST_CREDENTIALS,
    region: region!,
    service: service!,
    sha256: Sha256,
    // The client's x-amz-content-sha256, if it sent one, is among the signed headers already.
    applyChecksum: false,
  });
  const signingDate = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  const resigned = await signer.sign(
    {
      method: req.method ?? 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      path: decodeURIComponent(url.pathname),
      query: Object.fromEntries(url.searchParams),
      headers,
      body,
    },
    { signingDate, signableHeaders: new Set(signedHeaders) },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(resigned.headers.authorization ?? ''))?.[1];
  if (expected !== signature) {
    return {
      ok: false,
      type: 'InvalidSignatureException',
      message: 'The request signature we calculated does not match the signature you provided.',
    };
  }
  return { ok: true };
}

export async function startAwsPeer(): Promise<AwsPeer> {
  const requests: RecordedAwsRequest[] = [];
  const scripted = new Map<AwsOperation, { fault: AwsFault; times: number }>();
  let refused = 0;

  function nextFault(operation: AwsOperation): AwsFault | null {
    const script = scripted.get(operation);
    if (!script || script.times <= 0) return null;
    script.times--;
    return script.fault;
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void handle(req, Buffer.concat(chunks), res).catch((err: Error) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(err.message);
      });
    });
  });

  async function handle(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): Promise<void> {
    const target = String(req.headers['x-amz-target'] ?? '');
    const path = new URL(req.url ?? '/', 'http://peer').pathname;
    if (req.method === 'POST' && path === '/v2/email/outbound-emails') {
      await answer('SendEmail', 'ses', req, body, res);
    } else if (req.method === 'POST' && path === '/' && target === 'PinpointSMSVoiceV2.SendTextMessage') {
      await answer('SendTextMessage', 'sms-voice', req, body, res);
    } else {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ message: `no route for ${req.method} ${path} ${target}` }));
    }
  }

  async function answer(
    operation: AwsOperation,
    signingService: string,
    req: http.IncomingMessage,
    body: Buffer,
    res: http.ServerResponse,
  ): Promise<void> {
    const restJson = operation === 'SendEmail';
    const verdict = await verifySignature(req, body, signingService);
    if (!verdict.ok) {
      refused++;
      return sendFault(res, restJson, { status: 403, type: verdict.type, message: verdict.message });
    }
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return sendFault(res, restJson, {
        status: 400,
        type: restJson ? 'BadRequestException' : 'SerializationException',
        message: 'Malformed JSON',
      });
    }
    const messageId = restJson ? `0100019a${randomUUID().replace(/-/g, '')}-000000` : randomUUID();
    const data = (parsed.Content as { Raw?: { Data?: unknown } } | undefined)?.Raw?.Data;
    requests.push({
      operation,
      headers: req.headers,
      body: parsed,
      raw: typeof data === 'string' ? Buffer.from(data, 'base64').toString('utf8') : null,
      messageId,
    });
    const fault = nextFault(operation);
    if (fault) return sendFault(res, restJson, fault);
    res
      .writeHead(200, {
        'content-type': restJson ? 'application/json' : 'application/x-amz-json-1.0',
        'x-amzn-requestid': randomUUID(),
      })
      .end(JSON.stringify({ MessageId: messageId }));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get refused() {
      return refused;
    },
    fail(operation, fault, times = Number.POSITIVE_INFINITY) {
      scripted.set(operation, { fault, times });
    },
    heal(operation) {
      scripted.delete(operation);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function sendFault(res: http.ServerResponse, restJson: boolean, fault: AwsFault): void {
  const requestId = randomUUID();
  if (restJson) {
    res
      .writeHead(fault.status ?? 400, {
        'content-type': 'application/json',
        'x-amzn-requestid': requestId,
        'x-amzn-errortype': `${fault.type}:http://internal.amazon.com/coral/com.amazonaws.sesv2/`,
      })
      .end(JSON.stringify({ message: fault.message }));
    return;
  }
  res
    .writeHead(fault.status ?? 400, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': requestId })
    .end(
      JSON.stringify({
        __type: `com.amazonaws.pinpointsmsvoicev2#${fault.type}`,
        Message: fault.message,
        ...(fault.reason ? { Reason: fault.reason } : {}),
        ...(fault.fields ? { Fields: fault.fields } : {}),
      }),
    );
}
