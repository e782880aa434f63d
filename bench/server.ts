/**
 * The two servers the accept benchmark compares: Envoi's real API (worker off, logging silent) and a bare Fastify
 * route. Each can start in the calling process, or in a child process started with `fork()` (the default in
 * bench/run.ts), so that autocannon does not share the server's event loop.
 *
 * Child protocol (IPC): argv `--bench-child <kind> <json options>`; the child sends `{ type: 'ready', port }`, then
 * answers `{ type: 'usage' }` with its CPU time and memory, and `{ type: 'stop' }` by closing and exiting 0 (so
 * that `--cpu-prof` can write its profile).
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/connection.ts';
import { createApp, createServices } from '../src/app.ts';

export type ServerKind = 'envoi' | 'bare';

export interface ServerOptions {
  databaseUrl: string;
  secretKey: string;
}

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

export async function startServer(kind: ServerKind, opts: ServerOptions): Promise<RunningServer> {
  if (kind === 'bare') {
    const app = Fastify({ logger: false });
    app.post('/bare', async (_request, reply) => reply.code(201).send({ id: randomUUID() }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
  }
  const config = loadConfig({
    DATABASE_URL: opts.databaseUrl,
    ENVOI_SECRET_KEY: opts.secretKey,
    LOG_LEVEL: 'silent',
    HOST: '127.0.0.1',
    PORT: '0',
  });
  const database = await openDatabase({ databaseUrl: config.databaseUrl });
  const services = createServices(config, database, opts.secretKey);
  // No logger: createApp's default is `logger: false`. No worker: createApp never starts one.
  const app = await createApp(services);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    port: (app.server.address() as AddressInfo).port,
    async close() {
      await app.close();
      await database.close();
    },
  };
}

export type ChildMessage =
  | { type: 'ready'; port: number }
  | { type: 'usage'; cpu: NodeJS.CpuUsage; rss: number }
  | { type: 'failed'; message: string };

async function runChild(kind: ServerKind, opts: ServerOptions): Promise<void> {
  const send = (message: ChildMessage) => process.send!(message);
  let server: RunningServer;
  try {
    server = await startServer(kind, opts);
  } catch (err) {
    send({ type: 'failed', message: (err as Error).stack ?? String(err) });
    process.exit(1);
  }
  process.on('message', (message: { type: string }) => {
    if (message.type === 'usage') send({ type: 'usage', cpu: process.cpuUsage(), rss: process.memoryUsage().rss });
    if (message.type === 'stop') {
      void server.close().finally(() => process.exit(0));
    }
  });
  // The parent went away without saying stop: do not linger.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', port: server.port });
}

if (process.argv[2] === '--bench-child') {
  await runChild(process.argv[3] as ServerKind, JSON.parse(process.argv[4]!) as ServerOptions);
}
