/**
 * An open-loop load at a steady rate, for latency under load: requests leave evenly spaced over each second,
 * whatever pace the answers come back at, over a pool of keep-alive connections. autocannon's rate limit instead
 * lets each connection send its whole quota for a second at once and then wait for the next second, so its
 * "1,000 requests/s" is a burst of 1,000 every second, and what it measures downstream is the burst draining.
 *
 *   const result = await pacedLoad({ url, rate: 1_000, seconds: 10, connections: 32, body, headers: () => ({…}) });
 */
import http from 'node:http';

export interface PacedLoadOptions {
  url: string;
  /** Requests per second. */
  rate: number;
  seconds: number;
  connections: number;
  body: string;
  /** Called at most once a second (a JWT's iat moves by the second). */
  headers: () => Record<string, string>;
}

export interface PacedLoadResult {
  sent: number;
  /** Answered 2xx. */
  ok: number;
  /** Answered otherwise, or the connection failed. */
  failed: number;
  /** Requests answered per second, over the time from the first request to the last answer. */
  answeredPerSecond: number;
}

export async function pacedLoad(opts: PacedLoadOptions): Promise<PacedLoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.connections });
  const url = new URL(opts.url);
  const body = Buffer.from(opts.body);
  let headers = opts.headers();
  let headersSecond = 0;
  let sent = 0;
  let ok = 0;
  let failed = 0;
  const inFlight = new Set<Promise<void>>();

  const fire = () => {
    const p = new Promise<void>((resolve) => {
      const request = http.request(
        url,
        { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } },
        (response) => {
          response.resume();
          response.on('end', () => {
            if (response.statusCode! >= 200 && response.statusCode! < 300) ok += 1;
            else failed += 1;
            resolve();
          });
        },
      );
      request.on('error', () => {
        failed += 1;
        resolve();
      });
      request.end(body);
    });
    inFlight.add(p);
    void p.then(() => inFlight.delete(p));
  };

  const started = performance.now();
  for (;;) {
    const elapsed = performance.now() - started;
    if (elapsed >= opts.seconds * 1000) break;
    const second = Math.floor(elapsed / 1000);
    if (second !== headersSecond) {
      headersSecond = second;
      headers = opts.headers();
    }
    const due = Math.floor((opts.rate * elapsed) / 1000);
    while (sent < due) {
      fire();
      sent += 1;
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  while (inFlight.size > 0) await Promise.all(inFlight);
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return { sent, ok, failed, answeredPerSecond: (ok + failed) / seconds };
}
