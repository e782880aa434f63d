/**
 * The queue runner (src/platform/queue/runner.ts) on a table of its own: what a product adding an entry relies on.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { QueueTable } from '../../src/platform/queue/claim-queue.ts';
import { eachRow, type QueueWork, runQueue } from '../../src/platform/queue/runner.ts';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';

interface Chore {
  id: string;
  attempts: number;
  name: string;
}

const CHORES: QueueTable = {
  table: 'runner_chores',
  idType: 'text',
  due: sql`done_at IS NULL AND next_attempt_at <= now()`,
  orderBy: ['next_attempt_at'],
  returning: ['name'],
};

const quiet = { info() {}, warn() {}, error() {} };

let tdb: TestDatabase;

beforeAll(async () => {
  tdb = await openTestDatabase();
  await sql`CREATE TABLE runner_chores (
    id text PRIMARY KEY, name text NOT NULL, done_at timestamptz,
    claimed_until timestamptz, attempts integer NOT NULL DEFAULT 0, next_attempt_at timestamptz NOT NULL DEFAULT now()
  )`.execute(tdb.db);
});

afterAll(async () => {
  await tdb?.close();
});

beforeEach(async () => {
  await sql`DELETE FROM runner_chores`.execute(tdb.db);
});

function chores(handle: (row: Chore) => Promise<void>, leaseSeconds = 30): QueueWork<Chore> {
  return {
    kind: 'queue',
    name: 'chore runner',
    rows: 'chores',
    lookups: 'nothing',
    table: CHORES,
    leaseSeconds,
    batchSize: 10,
    concurrency: 2,
    retries: { maxAttempts: 3, delayMs: () => 0 },
    pollMs: 20,
    handler: eachRow(handle),
  };
}

async function finish(id: string): Promise<void> {
  await sql`UPDATE runner_chores SET done_at = now(), claimed_until = NULL WHERE id = ${id}`.execute(tdb.db);
}

describe('the queue runner', () => {
  it('claims a row whose handler crashed again once its lease has run out, and then finishes it', async () => {
    await sql`INSERT INTO runner_chores (id, name) VALUES ('a', 'sweep')`.execute(tdb.db);
    const tries: number[] = [];
    const running = runQueue(
      chores(async (row) => {
        tries.push(row.attempts);
        if (row.attempts === 1) throw new Error('the handler crashed');
        await finish(row.id);
      }, 1),
      { db: tdb.db, logger: quiet },
    );
    try {
      await expect.poll(() => tries, { timeout: 10_000 }).toEqual([1, 2]);
      await expect
        .poll(
          async () =>
            (await sql<{ done: boolean }>`SELECT done_at IS NOT NULL AS done FROM runner_chores`.execute(tdb.db))
              .rows[0]?.done,
        )
        .toBe(true);
    } finally {
      await running.stop();
    }
  });

  it('waits in stop() for the work in flight, and claims nothing after it', async () => {
    await sql`INSERT INTO runner_chores (id, name) VALUES ('a', 'dust'), ('b', 'polish')`.execute(tdb.db);
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const started: string[] = [];
    const running = runQueue(
      chores(async (row) => {
        started.push(row.id);
        await held;
        await finish(row.id);
      }),
      { db: tdb.db, logger: quiet },
    );
    await expect.poll(() => started.length).toBe(2);
    let stopped = false;
    const stopping = running.stop().then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stopped).toBe(false);
    release();
    await stopping;
    const { rows } = await sql<{
      id: string;
    }>`SELECT id FROM runner_chores WHERE done_at IS NOT NULL ORDER BY id`.execute(tdb.db);
    expect(rows.map((r) => r.id)).toEqual(['a', 'b']);
    await sql`INSERT INTO runner_chores (id, name) VALUES ('c', 'mop')`.execute(tdb.db);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(started).toEqual(['a', 'b']);
  });

  it('gives back the rows it had no room to start before stopping, untried', async () => {
    await sql`INSERT INTO runner_chores (id, name) VALUES ('a', 'one'), ('b', 'two'), ('c', 'three')`.execute(tdb.db);
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const started: string[] = [];
    const running = runQueue(
      chores(async (row) => {
        started.push(row.id);
        await held;
        await finish(row.id);
      }),
      { db: tdb.db, logger: quiet },
    );
    await expect.poll(() => started.length).toBe(2);
    const stopping = running.stop();
    release();
    await stopping;
    const { rows } = await sql<{ attempts: number; claimed: boolean }>`
      SELECT attempts, claimed_until IS NOT NULL AS claimed FROM runner_chores WHERE done_at IS NULL`.execute(tdb.db);
    // Concurrency 2: the third row waited for room, and went back with its claim's attempt returned.
    expect(rows).toEqual([{ attempts: 0, claimed: false }]);
  });
});
