/**
 * Applies the numbered SQL files in migrations/ once each, in order, one transaction per file. A session
 * advisory lock keeps two replicas starting together from racing.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DbHandle } from './connection.ts';

const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');
const LOCK_ID = 4_206_011;

export async function migrate(handle: DbHandle): Promise<string[]> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => /^\d+_[\w-]+\.sql$/.test(f)).sort();
  return handle.withScriptRunner(async (run) => {
    await run(`SELECT pg_advisory_lock(${LOCK_ID})`);
    try {
      await run(
        'CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
      );
      const done = new Set((await run('SELECT name FROM schema_migrations')).map((r) => String(r.name)));
      const applied: string[] = [];
      for (const file of files.filter((f) => !done.has(f))) {
        const text = await readFile(path.join(MIGRATIONS_DIR, file), 'utf8');
        try {
          await run(`BEGIN;\n${text}\n;INSERT INTO schema_migrations (name) VALUES ('${file}');\nCOMMIT;`);
        } catch (err) {
          await run('ROLLBACK');
          throw new Error(`migration ${file} failed: ${(err as Error).message}`);
        }
        applied.push(file);
      }
      return applied;
    } finally {
      await run(`SELECT pg_advisory_unlock(${LOCK_ID})`);
    }
  });
}
