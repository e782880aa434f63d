/**
 * A migrated database for one test file: in-memory PGlite by default; with DATABASE_URL, a fresh database created
 * on that server and dropped by close(), so that test files never see each other's rows.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type DbHandle } from '../../src/platform/database/connection.ts';
import { migrate } from '../../src/platform/database/migrate.ts';
import { MIGRATIONS } from '../../src/migrations.ts';

export interface TestDatabase extends DbHandle {
  /** The connection URL of the per-file database, or null on PGlite. */
  url: string | null;
}

export async function openTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const handle = await openDatabase({ databaseUrl: null });
    await migrate(handle, MIGRATIONS);
    return Object.assign(handle, { url: null });
  }

  const scratch = await createServerDatabase(serverUrl);
  const handle = await openDatabase({ databaseUrl: scratch.url });
  try {
    await migrate(handle, MIGRATIONS);
  } catch (err) {
    await handle.close();
    await scratch.drop();
    throw err;
  }
  const closeHandle = handle.close.bind(handle);
  return Object.assign(handle, {
    url: scratch.url,
    async close() {
      await closeHandle();
      await scratch.drop();
    },
  });
}

/** A new, empty database on the server of `serverUrl`, and how to drop it. */
export async function createServerDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `envoi_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await onServer(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => onServer(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function onServer(serverUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
