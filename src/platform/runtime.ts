/**
 * Opening Envoi's state: the database (migrated), its read replica if one is set, the secret key, and, in embedded mode, the hand-off file that
 * lets `envoi` commands reach a running server instead of opening the single-process PGlite folder twice.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync, unlinkSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Config } from './config.ts';
import { openDatabase, type DbHandle } from './database/connection.ts';
import { type MigrationSource, migrate } from './database/migrate.ts';
import { generateSecretKey } from './secret-box.ts';

/** The replica serves only the web UI's reports, a few at a time: a small pool spares its connection slots. */
const READ_POOL_SIZE = 5;

export async function openState(
  config: Config,
  migrations: MigrationSource[],
): Promise<{ database: DbHandle; readDatabase: DbHandle | null; secretKey: string; migrated: string[] }> {
  if (!config.databaseUrl) mkdirSync(config.dataDir, { recursive: true });
  const secretKey = resolveSecretKey(config);
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.databaseUrl ? undefined : path.join(config.dataDir, 'pgdata'),
    connectTimeoutMs: config.databaseTimeouts.connectMs,
    queryTimeoutMs: config.databaseTimeouts.queryMs,
  });
  try {
    const migrated = await migrate(database, migrations);
    // Never migrated: a replica follows the primary's schema. Opened lazily (pg connects on the first read), so a
    // replica that is down fails only the pages that read from it, not start-up.
    const readDatabase = config.databaseReadUrl
      ? await openDatabase({
          databaseUrl: config.databaseReadUrl,
          poolSize: READ_POOL_SIZE,
          // The primary's bounds: a replica out of reach fails its pages fast rather than hanging them.
          connectTimeoutMs: config.databaseTimeouts.connectMs,
          queryTimeoutMs: config.databaseTimeouts.queryMs,
        })
      : null;
    return { database, readDatabase, secretKey, migrated };
  } catch (err) {
    await database.close();
    throw err;
  }
}

/** With PostgreSQL the key must come from config (every replica shares it); embedded, it is made once and kept. */
export function resolveSecretKey(config: Config): string {
  if (config.secretKey) return config.secretKey;
  const file = path.join(config.dataDir, 'secret.key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(config.dataDir, { recursive: true });
  const key = generateSecretKey();
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}

export interface ServerHandoff {
  pid: number;
  url: string;
  token: string;
}

const handoffPath = (config: Config) => path.join(config.dataDir, 'server.json');

/** Written by a server running on the embedded database; removed when it stops. */
export function writeHandoff(config: Config, url: string): ServerHandoff {
  const handoff = { pid: process.pid, url, token: randomBytes(24).toString('base64url') };
  writeFileSync(handoffPath(config), JSON.stringify(handoff), { mode: 0o600 });
  chmodSync(handoffPath(config), 0o600);
  return handoff;
}

export function removeHandoff(config: Config, handoff: ServerHandoff): void {
  try {
    const current = JSON.parse(readFileSync(handoffPath(config), 'utf8')) as ServerHandoff;
    if (current.token === handoff.token) unlinkSync(handoffPath(config));
  } catch {
    // Already gone.
  }
}

/** The running embedded server, if there is one (a stale file from a crashed server is ignored). */
export function runningServer(config: Config): ServerHandoff | null {
  if (config.databaseUrl) return null;
  try {
    const handoff = JSON.parse(readFileSync(handoffPath(config), 'utf8')) as ServerHandoff;
    process.kill(handoff.pid, 0);
    return handoff;
  } catch {
    return null;
  }
}
