/**
 * An API process killed (SIGKILL) in the middle of keyed sends: the client, not knowing which of its cut-off
 * requests were committed, sends every one again with its Idempotency-Key once the API is back. Each key ends with
 * exactly one notification, and a retry of an acknowledged send answers its first id: the key and its notification
 * were committed together or not at all.
 *
 * PostgreSQL only (a process killed mid-write on a server); skipped without DATABASE_URL.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DbHandle } from '../../src/platform/database/connection.ts';
import { createSandbox, type EnvoiSandbox } from '../support/envoi-process.ts';
import { spawnEnvoi, waitUntilServing, type EnvoiProcess } from '../scale/processes.ts';
import { bearer } from './helpers.ts';
import { freePort } from '../support/ports.ts';

const SENDS = 600;
const IN_FLIGHT = 32;
const KILL_AFTER = 200;

describe.skipIf(!process.env.DATABASE_URL)('Idempotency-Key across a SIGKILL of the API', () => {
  let sandbox: EnvoiSandbox;
  let db: DbHandle;
  let api: EnvoiProcess;
  let env: NodeJS.ProcessEnv;
  let url: string;
  let service: { id: string; templateId: string; key: string };

  beforeAll(async () => {
    sandbox = await createSandbox('envoi-idempotency', { LOG_LEVEL: 'warn' });
    const file = path.join(sandbox.dir, 'bootstrap.json');
    await writeFile(
      file,
      JSON.stringify({
        services: [
          {
            name: 'Retrying Office',
            restricted: false,
            permissions: ['email'],
            rate_limit: 1_000_000,
            message_limit: { email: 100_000 },
            templates: [{ key: 'notice', type: 'email', versions: [{ name: 'N', subject: 'N', content: 'Hello' }] }],
            api_keys: [{ name: 'live', type: 'normal' }],
          },
        ],
      }),
    );
    const bootstrapped = await sandbox.envoi('bootstrap', file);
    expect(bootstrapped.code, bootstrapped.stderr).toBe(0);
    const provisioned = JSON.parse(bootstrapped.stdout).services[0];
    service = { id: provisioned.id, templateId: provisioned.templates.notice, key: provisioned.api_keys.live };
    db = await openDatabase({ databaseUrl: sandbox.env.DATABASE_URL!, poolSize: 2 });
    const port = await freePort();
    env = { ...sandbox.env, PORT: String(port) };
    url = `http://127.0.0.1:${port}`;
    api = spawnEnvoi('api', env);
    await waitUntilServing(url, api);
  }, 120_000);

  afterAll(async () => {
    await api?.kill();
    await db?.close();
    await sandbox?.cleanup();
  });

  const send = async (i: number): Promise<string | null> => {
    try {
      const res = await fetch(`${url}/v2/notifications/email`, {
        method: 'POST',
        headers: {
          authorization: bearer(service.key),
          'content-type': 'application/json',
          'idempotency-key': `send-${i}`,
        },
        body: JSON.stringify({ email_address: `person${i}@example.com`, template_id: service.templateId }),
      });
      if (res.status !== 201) throw new Error(`send ${i}: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { id: string }).id;
    } catch (err) {
      if ((err as Error).message.startsWith('send ')) throw err;
      return null; // cut off: the API died with it in flight
    }
  };

  it('leaves one notification per key, and answers a retry with its first id', async () => {
    const first = new Map<number, string>();
    let next = 0;
    let killed: Promise<void> | null = null;
    const lane = async () => {
      while (next < SENDS) {
        const i = next++;
        const id = await send(i);
        if (id) first.set(i, id);
        if (first.size >= KILL_AFTER && !killed) killed = api.kill();
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
    await killed;
    const cutOff = SENDS - first.size;

    api = spawnEnvoi('api', env);
    await waitUntilServing(url, api);
    const again = new Map<number, string>();
    for (let i = 0; i < SENDS; i += IN_FLIGHT) {
      const batch = Array.from({ length: Math.min(IN_FLIGHT, SENDS - i) }, (_, j) => i + j);
      const ids = await Promise.all(batch.map(send));
      for (const [j, n] of batch.entries()) again.set(n, ids[j]!);
    }
    console.log(`idempotency across a kill: ${first.size} acknowledged before the kill, ${cutOff} cut off or unsent`);

    expect(cutOff).toBeGreaterThan(0);
    for (const [i, id] of first) expect(again.get(i)).toBe(id);
    expect(new Set(again.values()).size).toBe(SENDS);
    const stored = await db.db.selectFrom('notifications').select('id').where('service_id', '=', service.id).execute();
    expect(stored.map((r) => r.id).sort()).toEqual([...again.values()].sort());
  }, 300_000);
});
