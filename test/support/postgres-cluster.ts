/**
 * A PostgreSQL cluster of the test's own, to restart, crash and cut off without disturbing the shared server:
 * `initdb` into a temporary folder, its own free port, `pg_ctl` to start and restart it, SIGKILL for its
 * postmaster. Needs the server binaries (/usr/lib/postgresql/<version>/bin); run as root, it runs them as the
 * `postgres` user, which PostgreSQL requires. And a TCP proxy in front of it whose traffic can be frozen: the
 * network cut that neither end notices.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.ts';

const run = promisify(execFile);

/** The newest installed server's binaries, or null when there are none. */
export function postgresBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], 'bin') : null;
}

export interface PostgresCluster {
  /** The cluster's `postgres` database, as its superuser. */
  url: string;
  port: number;
  /** `pg_ctl restart -m fast`: every connection is ended, the server is back when it resolves. */
  restart(): Promise<void>;
  /** SIGKILL of the postmaster, as a crash or an OOM kill would; resolves once it is gone. */
  kill(): Promise<void>;
  /** Starts it again (after kill: crash recovery first). */
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startPostgresCluster(): Promise<PostgresCluster> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql');
  const dir = await mkdtemp(path.join(tmpdir(), 'envoi-pg-'));
  const data = path.join(dir, 'data');
  const owner = process.getuid?.() === 0 ? postgresUser() : null;
  if (owner) await chown(dir, owner.uid, owner.gid);
  const as = owner ? { uid: owner.uid, gid: owner.gid } : {};
  const tool = (name: string, args: string[]) => run(path.join(bin, name), args, { ...as, cwd: dir });

  await tool('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  const log = path.join(dir, 'server.log');
  const start = async () => {
    // Right after a kill, backends of the dead postmaster may still hold its shared memory for a moment.
    for (let attempt = 1; ; attempt++) {
      try {
        await tool('pg_ctl', ['-D', data, '-o', options, '-l', log, '-w', '-t', '30', 'start']);
        return;
      } catch (err) {
        if (attempt >= 10) throw err;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    }
  };
  await start();
  const postmasterPid = () => Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);

  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async restart() {
      await tool('pg_ctl', ['-D', data, '-o', options, '-l', log, '-w', '-t', '30', '-m', 'fast', 'restart']);
    },
    async kill() {
      const pid = postmasterPid();
      process.kill(pid, 'SIGKILL');
      while (alive(pid)) await new Promise((resolve) => setTimeout(resolve, 20));
    },
    start,
    async destroy() {
      await tool('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface FreezableProxy {
  /** A URL like `target` with the proxy's port. */
  url: string;
  /** Stops forwarding in both directions, closing nothing; connections made meanwhile wait. */
  freeze(): void;
  resume(): void;
  close(): Promise<void>;
}

/** A TCP proxy to `target`'s host and port whose traffic can be frozen: a network cut, as both ends see it. */
export async function startFreezableProxy(target: string): Promise<FreezableProxy> {
  const to = new URL(target);
  let frozen = false;
  const sockets = new Set<net.Socket>();
  // What arrived while frozen, per destination, delivered on resume (TCP would have retransmitted it).
  const held: Array<[net.Socket, Buffer]> = [];
  const waiting: Array<() => void> = [];
  const forward = (from: net.Socket, dest: net.Socket) => {
    from.on('data', (chunk: Buffer) => {
      if (frozen) held.push([dest, chunk]);
      else dest.write(chunk);
    });
    from.on('close', () => dest.destroy());
  };
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = net.createServer((client) => {
    track(client);
    const connect = () => {
      const upstream = net.connect(Number(to.port), to.hostname);
      track(upstream);
      forward(client, upstream);
      forward(upstream, client);
    };
    if (frozen) waiting.push(connect);
    else connect();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(target);
  url.port = String((server.address() as net.AddressInfo).port);
  return {
    url: url.toString(),
    freeze() {
      frozen = true;
    },
    resume() {
      frozen = false;
      for (const [dest, chunk] of held.splice(0)) if (!dest.destroyed) dest.write(chunk);
      for (const connect of waiting.splice(0)) connect();
    },
    async close() {
      for (const s of sockets) s.destroy();
      // Connections still waiting for a resume are never closed by anyone: do not wait for them.
      server.close();
    },
  };
}
