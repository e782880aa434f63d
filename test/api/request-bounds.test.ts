/**
 * One request must not hold the process (issue 13 §4): bodies, JSON nesting, personalisation and previews are
 * bounded and refused early, in Notify's error format, with any key (a test key here). The server runs in a child
 * process that measures its own event-loop delay while each hostile request arrives; before these bounds each of
 * them held the loop for seconds (a 10 MB body of nested arrays: 13.8 s and a 500).
 */
import { fork, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer } from './helpers.ts';
import {
  MAX_JSON_DEPTH,
  MAX_JSON_KEYS,
  PERSONALISATION_KEY_LIMIT,
  PERSONALISATION_SIZE_LIMIT,
} from '../../src/notify/api/v2/bounds.ts';

const CHILD = path.join(import.meta.dirname, 'request-bounds-child.ts');
/** Far below the seconds these requests used to take. */
const STALL_MS = 100;

let child: ChildProcess;
let server: { url: string; key: string; templateId: string };

function next<T>(): Promise<T> {
  return new Promise((resolve, reject) => {
    child.once('message', (message) => resolve(message as T));
    child.once('exit', (code) => reject(new Error(`the server process exited (${code})`)));
  });
}

beforeAll(async () => {
  child = fork(CHILD, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  server = await next();
  // Warm the caches (service, key, template) and the code paths with ordinary requests first.
  for (let i = 0; i < 3; i++) {
    const sent = await post('/v2/notifications/email', JSON.stringify(goodEmail({ name: 'Ana' })));
    expect(sent.status).toBe(201);
    const preview = await post(`/v2/template/${server.templateId}/preview`, '{"personalisation":{"name":"Ana"}}');
    expect(preview.status).toBe(200);
  }
});

afterAll(async () => {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.send('stop');
  await exited;
});

function goodEmail(personalisation: unknown) {
  return { email_address: 'someone@example.com', template_id: server.templateId, personalisation };
}

interface Answer {
  status: number;
  body: any;
}

/**
 * A POST over a plain socket. The server answers 413 as soon as it has read Content-Length and closes the
 * connection; a client that went on writing can have that answer wiped out by the reset (fetch reports EPIPE
 * instead). So the body waits a moment and goes in pieces, stopping once an answer has come; a lost answer is asked
 * for again.
 */
async function post(urlPath: string, raw: string): Promise<Answer> {
  const body = Buffer.from(raw);
  for (let attempt = 1; ; attempt++) {
    const answer = await postOnce(urlPath, body);
    if (answer || attempt === 3) return answer ?? { status: 0, body: null };
  }
}

function postOnce(urlPath: string, body: Buffer): Promise<Answer | null> {
  const { port, hostname } = new URL(server.url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => {}); // a write cut short: the answer, if it came, is read on close
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString();
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
      resolve(status ? { status, body: JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) } : null);
    });
    socket.write(
      `POST ${urlPath} HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: ${bearer(server.key)}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
    );
    const writeFrom = (offset: number) => {
      if (chunks.length > 0 || socket.destroyed || offset >= body.length) return;
      socket.write(body.subarray(offset, offset + 64 * 1024), () => setImmediate(writeFrom, offset + 64 * 1024));
    };
    // As a client sending `Expect: 100-continue` would: a moment for the server to refuse before the body goes.
    setTimeout(writeFrom, 300, 0);
  });
}

/**
 * The answer to a request built beforehand, and the server's longest event-loop delay while it was handled: the
 * lowest of three tries, since a busy machine can hold the process back once, where a stall happens every time.
 */
async function measured(urlPath: string, raw: string): Promise<{ res: Answer; maxDelayMs: number }> {
  let res: Answer | undefined;
  let maxDelayMs = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const measuring = next();
    child.send('measure');
    await measuring;
    res = await post(urlPath, raw);
    const report = next<{ maxDelayMs: number }>();
    child.send('report');
    maxDelayMs = Math.min(maxDelayMs, (await report).maxDelayMs);
  }
  return { res: res!, maxDelayMs };
}

function expectNotifyError(res: Answer, status: number, message?: RegExp): void {
  expect(res.status).toBe(status);
  expect(res.body?.status_code).toBe(status);
  expect(res.body.errors.length).toBeGreaterThan(0);
  for (const e of res.body.errors) expect(e).toEqual({ error: expect.any(String), message: expect.any(String) });
  if (message) expect(res.body.errors[0].message).toMatch(message);
}

/** `{"k0":"","k1":"",…}`, written directly: building the object first would be the slow part. */
function manyKeys(count: number): string {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(`"k${i}":""`);
  return `{"name":"Ana",${parts.join(',')}}`;
}

describe('requests that used to stall the process are refused at once', () => {
  it('a 10 MB body of nested arrays: 413', async () => {
    const half = 5 * 1024 * 1024;
    const { res, maxDelayMs } = await measured('/v2/notifications/email', '['.repeat(half) + ']'.repeat(half));
    expectNotifyError(res, 413);
    expect(maxDelayMs).toBeLessThan(STALL_MS);
  });

  it('a 9.9 MB template preview: 413', async () => {
    const raw = JSON.stringify({ personalisation: { name: 'x '.repeat(5_200_000) } });
    const { res, maxDelayMs } = await measured(`/v2/template/${server.templateId}/preview`, raw);
    expectNotifyError(res, 413);
    expect(maxDelayMs).toBeLessThan(STALL_MS);
  });

  it('a personalisation of 200,000 keys: 413', async () => {
    const raw = JSON.stringify(goodEmail({})).replace('{}', manyKeys(200_000));
    const { res, maxDelayMs } = await measured('/v2/notifications/email', raw);
    expectNotifyError(res, 413);
    expect(maxDelayMs).toBeLessThan(STALL_MS);
  });

  it(`JSON nested 400,000 levels deep within the body limit: 400 (the limit is ${MAX_JSON_DEPTH})`, async () => {
    const deep = '['.repeat(400_000) + ']'.repeat(400_000);
    for (const raw of [deep, JSON.stringify(goodEmail({ name: 'DEEP' })).replace('"DEEP"', deep)]) {
      const { res, maxDelayMs } = await measured('/v2/notifications/email', raw);
      expectNotifyError(res, 400, /nested deeper than/);
      expect(maxDelayMs).toBeLessThan(STALL_MS);
    }
  });

  it(`70,000 keys within the body limit: 400 before parsing (the limit is ${MAX_JSON_KEYS})`, async () => {
    const send = JSON.stringify(goodEmail({})).replace('{}', manyKeys(70_000));
    const preview = `{"personalisation":${manyKeys(70_000)}}`;
    for (const [urlPath, raw] of [
      ['/v2/notifications/email', send],
      [`/v2/template/${server.templateId}/preview`, preview],
    ] as const) {
      const { res, maxDelayMs } = await measured(urlPath, raw);
      expectNotifyError(res, 400, /more than 1100 keys/);
      expect(maxDelayMs).toBeLessThan(STALL_MS);
    }
  });

  it(`a preview of 720 KB of markdown list: 400 (personalisation is at most ${PERSONALISATION_SIZE_LIMIT})`, async () => {
    const raw = JSON.stringify({ personalisation: { name: '* a\n'.repeat(180_000) } });
    const { res, maxDelayMs } = await measured(`/v2/template/${server.templateId}/preview`, raw);
    expectNotifyError(res, 400, /^Personalisation variables size of 720000 bytes is greater than allowed limit/);
    expect(maxDelayMs).toBeLessThan(STALL_MS);
  });
});

describe('the bounds, as a client meets them', () => {
  it(`personalisation of more than ${PERSONALISATION_KEY_LIMIT} keys: 400`, async () => {
    const res = await post('/v2/notifications/email', JSON.stringify(goodEmail({})).replace('{}', manyKeys(1_050)));
    expectNotifyError(res, 400, /^Personalisation has more than the allowed limit of 1000 keys/);
  });

  it("personalisation at the size limit is sent; one character more is refused in GC Notify's words", async () => {
    const at = await post('/v2/notifications/email', JSON.stringify(goodEmail({ name: 'x'.repeat(51_200) })));
    expect(at.status).toBe(201);
    const over = await post('/v2/notifications/email', JSON.stringify(goodEmail({ name: 'x'.repeat(51_201) })));
    expect(over.body).toEqual({
      status_code: 400,
      errors: [
        {
          error: 'ValidationError',
          message: 'Personalisation variables size of 51201 bytes is greater than allowed limit of 51200 bytes.',
        },
      ],
    });
  });
});
