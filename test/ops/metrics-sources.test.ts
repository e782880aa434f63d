/**
 * The gauges the alert rules read that a healthy single process cannot show: the callback backlog over real rows of
 * callback_deliveries, and envoi_database_up when the database does not answer. (The healthy values, from a real
 * `envoi start`, are checked in test/metrics.test.ts.)
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callbackBacklog } from '../../src/notify/repositories/callback-deliveries.ts';
import { measureCallbackBacklog, measureDatabase, scrape } from '../../src/platform/metrics.ts';
import { startEnvoi, type RunningEnvoi } from '../support/envoi.ts';

const EXAMPLE = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../examples/bootstrap.json'), 'utf8'));
const EXAMPLE_SERVICE: string = EXAMPLE.services[0].id;

/** The value of an unlabelled sample in the scrape, or undefined when it is absent. */
async function sample(name: string): Promise<number | undefined> {
  const line = (await scrape()).body.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

describe('gauges for the alert rules', () => {
  let envoi: RunningEnvoi;

  beforeAll(async () => {
    envoi = await startEnvoi({ bootstrap: EXAMPLE });
  });

  afterAll(() => envoi?.stop());

  it('counts the callbacks pending and how long the oldest due one has waited', async () => {
    const db = envoi.database.db;
    const insert = (state: string, due: string, claimed: string | null = null) =>
      sql`INSERT INTO callback_deliveries (service_id, callback_type, subject_id, state, next_attempt_at, claimed_until)
        VALUES (${EXAMPLE_SERVICE}, 'delivery_status', ${randomUUID()}, ${state},
          now() + ${due}::interval, now() + ${claimed ?? '-1 second'}::interval)`.execute(db);
    const forget = measureCallbackBacklog(() => callbackBacklog(db));
    try {
      expect(await sample('envoi_callbacks_pending')).toBe(0);
      expect(await sample('envoi_callbacks_oldest_due_seconds')).toBe(0);
      await insert('pending', '10 minutes'); // waiting for its retry: backlog, not due
      await insert('pending', '-120 seconds'); // due two minutes ago, not claimed
      await insert('pending', '-600 seconds', '30 seconds'); // due longer, but a worker holds it
      await insert('delivered', '-3600 seconds'); // done
      expect(await sample('envoi_callbacks_pending')).toBe(3);
      const age = (await sample('envoi_callbacks_oldest_due_seconds'))!;
      expect(age).toBeGreaterThanOrEqual(120);
      expect(age).toBeLessThan(600);
    } finally {
      forget();
    }
    // A process without a worker has no value for them.
    expect(await sample('envoi_callbacks_pending')).toBeUndefined();
  });

  it('reports the database down when it does not answer, and up when it does', async () => {
    const down = measureDatabase(() => Promise.reject(new Error('ECONNREFUSED')));
    try {
      expect(await sample('envoi_database_up')).toBe(0);
    } finally {
      down();
    }
    expect(await sample('envoi_database_up')).toBeUndefined();
    const up = measureDatabase(() => sql`SELECT 1`.execute(envoi.database.db));
    try {
      expect(await sample('envoi_database_up')).toBe(1);
    } finally {
      up();
    }
  });
});
