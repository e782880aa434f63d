/**
 * POSTs to services' receivers, which are addresses that anyone with a service can set: so never to loopback,
 * private, link-local (the cloud metadata address), unspecified, CGNAT or other special addresses. The check runs
 * on the address DNS returned, inside the connection's own lookup (request-filtering-agent), so a name that
 * resolves to a public address when saved and to 127.0.0.1 when used (DNS rebinding) is still refused. Hosts an
 * operator allows (CALLBACK_ALLOWED_HOSTS: their own receivers) skip the check.
 *
 * Redirects are never followed (node:http does not): a 3xx is an answer like any other, for the caller to judge.
 */
import http from 'node:http';
import https from 'node:https';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';
import { isAllowedHost } from '../../settings/callback-settings.ts';
import { parseRetryAfter } from '../retry-after.ts';

export type OutboundResult =
  /** The receiver answered; `body` is its first bytes only; `retryAfterMs` from its Retry-After, if any. */
  | { kind: 'response'; status: number; body: string; location: string | null; retryAfterMs?: number }
  /** The URL's address is one Envoi may not reach, or its scheme is not allowed. */
  | { kind: 'blocked'; reason: string }
  /** No answer: DNS failure, refused or reset connection, TLS error, or the timeout. */
  | { kind: 'error'; reason: string };

export interface OutboundHttp {
  post(url: string, headers: Record<string, string>, body: string): Promise<OutboundResult>;
  close(): void;
}

/** Enough of a receiver's answer to tell an operator what went wrong. */
const BODY_BYTES_KEPT = 200;

// request-filtering-agent reports a refused address with this wording and no error code.
const BLOCKED_MESSAGE = /^DNS lookup .* is not allowed/;

export function createOutboundHttp(opts: { timeoutMs: number; allowedHosts: readonly string[] }): OutboundHttp {
  const agentOptions = { keepAlive: true, maxSockets: 256 };
  const filtered = {
    http: new RequestFilteringHttpAgent(agentOptions),
    https: new RequestFilteringHttpsAgent(agentOptions),
  };
  const trusted = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };

  function post(target: string, headers: Record<string, string>, body: string): Promise<OutboundResult> {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      return Promise.resolve({ kind: 'blocked', reason: `not a valid URL: ${target}` });
    }
    const allowed = isAllowedHost(url, opts.allowedHosts);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowed)) {
      return Promise.resolve({
        kind: 'blocked',
        reason: `only https URLs are allowed (got ${url.protocol}//${url.host})`,
      });
    }
    const secure = url.protocol === 'https:';
    const agent = allowed ? (secure ? trusted.https : trusted.http) : secure ? filtered.https : filtered.http;
    const payload = Buffer.from(body, 'utf8');

    return new Promise<OutboundResult>((resolve) => {
      let settled = false;
      const finish = (result: OutboundResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const request = (secure ? https : http).request(url, {
        method: 'POST',
        agent,
        headers: { ...headers, 'content-length': String(payload.length) },
      });
      // One deadline for the whole exchange (connect, headers and body), so a receiver that trickles bytes
      // cannot hold a slot longer than the timeout.
      const timer = setTimeout(() => {
        finish({ kind: 'error', reason: `no answer within ${opts.timeoutMs} ms` });
        request.destroy();
      }, opts.timeoutMs);

      request.on('error', (err: NodeJS.ErrnoException) => {
        if (BLOCKED_MESSAGE.test(err.message)) {
          finish({ kind: 'blocked', reason: blockedReason(url, err.message) });
        } else {
          finish({ kind: 'error', reason: err.code ? `${err.code} ${err.message}` : err.message });
        }
      });
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        const done = () => {
          const status = response.statusCode ?? 0;
          const location = typeof response.headers.location === 'string' ? response.headers.location : null;
          const retryAfterMs = parseRetryAfter(response.headers['retry-after']);
          finish({
            kind: 'response',
            status,
            body: Buffer.concat(chunks).toString('utf8').slice(0, BODY_BYTES_KEPT),
            location,
            ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
          });
        };
        response.on('data', (chunk: Buffer) => {
          if (kept >= BODY_BYTES_KEPT) return;
          chunks.push(chunk.subarray(0, BODY_BYTES_KEPT - kept));
          kept += Math.min(chunk.length, BODY_BYTES_KEPT - kept);
          if (kept >= BODY_BYTES_KEPT) {
            // The rest is not wanted: answer now and drop the connection rather than read a large body.
            done();
            response.destroy();
          }
        });
        response.on('end', done);
        response.on('error', done);
        response.on('close', done);
      });
      request.end(payload);
    });
  }

  return {
    post,
    close() {
      for (const agent of [filtered.http, filtered.https, trusted.http, trusted.https]) agent.destroy();
    },
  };
}

function blockedReason(url: URL, message: string): string {
  const address = /DNS lookup (\S+?)\(/.exec(message)?.[1] ?? url.hostname;
  return `${url.host} is ${address === url.hostname ? '' : `at ${address}, `}a loopback, private, link-local or other special-purpose address, which callbacks may not reach`;
}
