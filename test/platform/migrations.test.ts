/**
 * Each product's migrations, applied together: in number order with the platform first, once each, and not again on
 * a database migrated before the products had folders of their own.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { migrate } from '../../src/platform/database/migrate.ts';
import { MIGRATIONS } from '../../src/migrations.ts';
import { createServerDatabase } from '../support/database.ts';
import { openDatabase, type DbHandle } from '../../src/platform/database/connection.ts';

let handle: DbHandle | null = null;
let drop: (() => Promise<void>) | null = null;

async function emptyDatabase(): Promise<DbHandle> {
  const scratch = process.env.DATABASE_URL ? await createServerDatabase(process.env.DATABASE_URL) : null;
  drop = scratch?.drop ?? null;
  handle = await openDatabase({ databaseUrl: scratch?.url ?? null });
  return handle;
}

afterEach(async () => {
  await handle?.close();
  await drop?.();
  handle = null;
  drop = null;
});

const recorded = async (db: DbHandle) =>
  (await sql<{ name: string }>`SELECT name FROM schema_migrations ORDER BY name`.execute(db.db)).rows.map(
    (r) => r.name,
  );

describe('migrations by product', () => {
  it('applies the platform and then each product, number by number, and nothing the second time', async () => {
    const db = await emptyDatabase();
    const applied = await migrate(db, MIGRATIONS);
    expect(applied.slice(0, 2)).toEqual(['platform/001_foundation.sql', 'notify/001_foundation.sql']);
    expect(applied).toContain('notify/014_daily_count_shards.sql');
    const numbers = applied.map((name) => Number.parseInt(name.split('/')[1]!, 10));
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    expect(await migrate(db, MIGRATIONS)).toEqual([]);
    expect(await recorded(db)).toEqual([...applied].sort());
  });

  it('takes a database migrated under bare file names as migrated, and applies only what is new', async () => {
    const db = await emptyDatabase();
    const applied = await migrate(db, MIGRATIONS);
    // As a database migrated by an earlier Envoi recorded them: one bare name per file, up to 013 (the last of that
    // Envoi's); what came later is undone.
    await sql`DELETE FROM schema_migrations`.execute(db.db);
    const bare = [...new Set(applied.map((name) => name.split('/')[1]!))];
    const newer = bare.splice(bare.indexOf('014_daily_count_shards.sql'));
    for (const name of bare) await sql`INSERT INTO schema_migrations (name) VALUES (${name})`.execute(db.db);
    await sql`ALTER TABLE daily_send_counts DROP CONSTRAINT daily_send_counts_pkey`.execute(db.db);
    await sql`ALTER TABLE daily_send_counts DROP COLUMN shard`.execute(db.db);
    await sql`ALTER TABLE daily_send_counts ADD PRIMARY KEY (service_id, day, channel)`.execute(db.db);
    await sql`DROP TABLE idempotency_keys`.execute(db.db);

    expect(newer).toEqual(['014_daily_count_shards.sql', '015_idempotency_keys.sql']);
    expect(await migrate(db, MIGRATIONS)).toEqual(newer.map((name) => `notify/${name}`));
  });
});
