/**
 * A local SMTP server in a process of its own, for the delivery benchmark: it takes every message and counts them,
 * so that the sender measured (Envoi's worker, or raw nodemailer) does not share its event loop with the server.
 *
 *   const sink = await startSmtpSink(); … await sink.count(); … await sink.stop();
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { SMTPServer } from 'smtp-server';

type SinkMessage = { type: 'ready'; port: number } | { type: 'count'; count: number };

export interface SmtpSink {
  port: number;
  url: string;
  /** Messages taken so far. */
  count(): Promise<number>;
  stop(): Promise<void>;
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--smtp-sink-child'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`SMTP sink exited (${code}) before it was ready`)));
    child.on('message', (m: SinkMessage) => m.type === 'ready' && resolve(m.port));
  });
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    count: () =>
      new Promise((resolve) => {
        const onMessage = (m: SinkMessage) => {
          if (m.type !== 'count') return;
          child.off('message', onMessage);
          resolve(m.count);
        };
        child.on('message', onMessage);
        child.send({ type: 'count' });
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function runChild(): Promise<void> {
  let count = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    // Many pooled connections from one host: the default limits would refuse some of them.
    maxClients: 1_000,
    onData(stream, _session, callback) {
      stream.on('data', () => {});
      stream.on('end', () => {
        count += 1;
        callback(null);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  process.on('message', (m: { type: string }) => {
    if (m.type === 'count') process.send!({ type: 'count', count } satisfies SinkMessage);
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ type: 'ready', port: (server.server.address() as AddressInfo).port } satisfies SinkMessage);
}

if (process.argv[2] === '--smtp-sink-child') await runChild();
