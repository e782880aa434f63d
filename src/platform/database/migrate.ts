/**
 * Applies each product's numbered SQL files once each, one transaction per file, under a session advisory lock so
 * that two replicas starting together do not race. Each product owns its migrations folder; files are applied in
 * the order of their numbers and, for the same number, in the order the products are given (the platform first),
 * so that a product's tables may refer to the platform's.
 *
 * A file is recorded as `<product>/<file>`. Databases migrated before products had folders of their own recorded
 * the bare file name: a bare record counts for every product's file of that name, whose parts it applied.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DbHandle } from './connection.ts';

export interface MigrationSource {
  product: string;
  dir: string;
}

export const platformMigrations: MigrationSource = {
  product: 'platform',
  dir: path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations'),
};

const LOCK_ID = 4_206_011;

interface Migration {
  name: string;
  file: string;
  path: string;
  number: number;
  order: number;
}

async function listMigrations(sources: MigrationSource[]): Promise<Migration[]> {
  const lists = await Promise.all(
    sources.map(async (source, order) =>
      (await readdir(source.dir))
        .filter((file) => /^\d+_[\w-]+\.sql$/.test(file))
        .map((file) => ({
          name: `${source.product}/${file}`,
          file,
          path: path.join(source.dir, file),
          number: Number.parseInt(file, 10),
          order,
        })),
    ),
  );
  return lists.flat().sort((a, b) => a.number - b.number || a.order - b.order || a.file.localeCompare(b.file));
}

/** Applies what is not applied yet; returns the names applied, in order. */
export async function migrate(handle: DbHandle, sources: MigrationSource[]): Promise<string[]> {
  const migrations = await listMigrations(sources);
  return handle.withScriptRunner(async (run) => {
    await run(`SELECT pg_advisory_lock(${LOCK_ID})`);
    try {
      await run(
        'CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
      );
      const done = new Set((await run('SELECT name FROM schema_migrations')).map((r) => String(r.name)));
      const applied: string[] = [];
      for (const migration of migrations.filter((m) => !done.has(m.name) && !done.has(m.file))) {
        const text = await readFile(migration.path, 'utf8');
        try {
          await run(`BEGIN;\n${text}\n;INSERT INTO schema_migrations (name) VALUES ('${migration.name}');\nCOMMIT;`);
        } catch (err) {
          await run('ROLLBACK');
          throw new Error(`migration ${migration.name} failed: ${(err as Error).message}`);
        }
        applied.push(migration.name);
      }
      return applied;
    } finally {
      await run(`SELECT pg_advisory_unlock(${LOCK_ID})`);
    }
  });
}
