/**
 * Envoi's roles as real processes for the scale-out tests: `envoi api` on a port chosen here (so that a restarted
 * replica comes back at the same address, as behind a load balancer) and `envoi worker`, each killed by pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { ENVOI_BIN } from '../support/envoi-process.ts';

export interface EnvoiProcess {
  child: ChildProcess;
  /** The last lines it wrote to stderr, for a failure message. */
  stderr(): string;
  /** SIGKILL, resolved once it has exited. */
  kill(): Promise<void>;
  /** SIGTERM, resolved once it has exited. */
  stop(): Promise<void>;
}

export function spawnEnvoi(role: 'api' | 'worker', env: NodeJS.ProcessEnv): EnvoiProcess {
  const child = spawn(process.execPath, [ENVOI_BIN, role], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4_000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = async (name: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(name);
    await exited;
  };
  return { child, stderr: () => tail, kill: () => signal('SIGKILL'), stop: () => signal('SIGTERM') };
}

/** Resolves once GET /_status answers 200; rejects if the process exits first. */
export async function waitUntilServing(url: string, process: EnvoiProcess): Promise<void> {
  for (;;) {
    if (process.child.exitCode !== null)
      throw new Error(`envoi exited with ${process.child.exitCode}:\n${process.stderr()}`);
    const ok = await fetch(`${url}/_status`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
