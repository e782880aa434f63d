/**
 * Envoi as a separate process, the way an operator runs it: the environment for a fresh data folder (and a
 * fresh database on the PostgreSQL server when DATABASE_URL is set), `envoi start`, and `envoi <command>`.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { TEST_SECRET_KEY } from './envoi.ts';
import { createServerDatabase } from './database.ts';

const run = promisify(execFile);
export const ENVOI_BIN = path.resolve(import.meta.dirname, '../../bin/envoi.js');

export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

export interface EnvoiSandbox {
  dir: string;
  env: NodeJS.ProcessEnv;
  /** Runs `envoi ...args`; resolves with the exit code and output, whatever the code. */
  envoi(...args: string[]): Promise<Outcome>;
  /** Spawns `envoi start` and resolves once it listens. */
  start(extraEnv?: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string }>;
  cleanup(): Promise<void>;
}

export async function createSandbox(prefix: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<EnvoiSandbox> {
  const dir = await mkdtemp(path.join(tmpdir(), `${prefix}-`));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: '0',
    LOG_LEVEL: 'info',
    ENVOI_DATA_DIR: path.join(dir, 'data'),
    WORKER_POLL_MS: '20',
    ...extraEnv,
  };
  delete env.DATABASE_URL;
  delete env.ENVOI_SECRET_KEY;
  const database = process.env.DATABASE_URL ? await createServerDatabase(process.env.DATABASE_URL) : null;
  if (database) {
    env.DATABASE_URL = database.url;
    env.ENVOI_SECRET_KEY = TEST_SECRET_KEY;
  }
  const children: ChildProcess[] = [];
  return {
    dir,
    env,
    async envoi(...args) {
      try {
        const { stdout, stderr } = await run(process.execPath, [ENVOI_BIN, ...args], { env, cwd: dir });
        return { code: 0, stdout, stderr };
      } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    },
    async start(more = {}) {
      const child = spawn(process.execPath, [ENVOI_BIN, 'start'], {
        env: { ...env, ...more },
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      return { child, url: await waitForListening(child) };
    },
    async cleanup() {
      for (const child of children) {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          await new Promise((resolve) => child.once('exit', resolve));
        }
      }
      await rm(dir, { recursive: true, force: true });
      await database?.drop();
    },
  };
}

function waitForListening(child: ChildProcess): Promise<string> {
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/[^\s"]+)/.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`envoi start exited with ${code}:\n${output}`)));
  });
}
