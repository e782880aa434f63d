/**
 * The servers the benchmarks start: Envoi's real API (worker off, logging silent), a bare Fastify route, Envoi
 * with its delivery worker in the same process (`envoi start`'s shape), and the delivery worker alone (`envoi
 * worker`'s shape; with an API process, the roles run separately, for the hand-off latency of bench/delivery.ts). Each can start in the calling process, or in a child process started with `fork()` (the default in
 * bench/run.ts), so that autocannon does not share the server's event loop.
 *
 * Child protocol (IPC): argv `--bench-child <kind> <json options>`; the child sends `{ type: 'ready', port }`, then
 * answers `{ type: 'usage' }` with its CPU time and memory, and `{ type: 'stop' }` by closing and exiting 0 (so
 * that `--cpu-prof` can write its profile).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { loadConfig } from '../src/platform/config.ts';
import { openDatabase } from '../src/platform/database/connection.ts';
import { createApp, createServices } from '../src/app.ts';
import { startWorker } from '../src/notify/delivery/worker.ts';
import { localSnsVerifier } from '../test/fixtures/sns/sns-peer.ts';

export type ServerKind = 'envoi' | 'bare' | 'envoi+worker' | 'worker';

export interface ServerOptions {
  databaseUrl: string;
  secretKey: string;
  /** More settings, as environment variables (EMAIL_PROVIDER, SMTP_URL, WORKER_*). */
  env?: Record<string, string>;
  /** Verify SNS messages against the local stand-in for SNS (test/fixtures/sns) instead of AWS's hosts. */
  localSns?: boolean;
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
    ...opts.env,
  });
  const database = await openDatabase({ databaseUrl: config.databaseUrl });
  if (kind === 'worker') {
    // `envoi worker`'s shape: the delivery worker alone, no HTTP (port 0).
    const worker = startWorker({ db: database.db, config });
    return {
      port: 0,
      close: async () => {
        await worker.stop();
        await database.close();
      },
    };
  }
  const services = createServices(config, database, opts.secretKey);
  if (opts.localSns) services.snsVerifier = localSnsVerifier();
  // No logger: createApp's default is `logger: false`. createApp never starts a worker: only envoi+worker does.
  const app = await createApp(services);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const worker =
    kind === 'envoi+worker'
      ? startWorker({ db: database.db, config, directory: services.directory, newWork: services.send.writer.committed })
      : null;
  return {
    port: (app.server.address() as AddressInfo).port,
    async close() {
      await app.close();
      await worker?.stop();
      await database.close();
    },
  };
}

export interface ServerHandle {
  port: number;
  /** CPU time used by the server's process so far (null in-process: it is shared with the load generator). */
  cpu(): Promise<NodeJS.CpuUsage | null>;
  stop(): Promise<void>;
}

/** Starts a server in a child process; with `cpuProfDir`, V8 writes the child's CPU profile there when it stops. */
export async function startServerChild(
  kind: ServerKind,
  opts: ServerOptions,
  cpuProfDir: string | null = null,
): Promise<ServerHandle> {
  const cpuProf = cpuProfDir !== null;
  const profDir = cpuProfDir ?? '';
  if (cpuProf) mkdirSync(`${profDir}/${kind}`, { recursive: true });
  const execArgv = [
    '--import',
    import.meta.resolve('tsx'),
    // Node names each thread's profile CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile (tsx's loader thread has one too).
    ...(cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profDir}/${kind}`] : []),
  ];
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--bench-child', kind, JSON.stringify(opts)], {
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`${kind} server exited (${code}) before it was ready`));
    child.once('exit', onExit);
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'ready') {
        child.off('exit', onExit);
        resolve(message.port);
      }
      if (message.type === 'failed') reject(new Error(`${kind} server failed to start:\n${message.message}`));
    });
  });
  return {
    port,
    cpu: () =>
      new Promise((resolve) => {
        const onMessage = (message: ChildMessage) => {
          if (message.type !== 'usage') return;
          child.off('message', onMessage);
          resolve(message.cpu);
        };
        child.on('message', onMessage);
        child.send({ type: 'usage' });
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.send({ type: 'stop' });
      }),
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
