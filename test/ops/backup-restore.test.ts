/**
 * docs/operations.md's backup and restore, run as written: notifications sent through a real `envoi start` on a fresh
 * PostgreSQL database, `pg_dump` (custom format) while it runs, `createdb` and `pg_restore` into a new database,
 * then a second Envoi started on the copy must answer GET /v2/notifications/{id} for each one, the same, with the
 * same API key, and accept new sends. PostgreSQL only: the embedded database is backed up by copying its folder.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { NotifyClient } from 'notifications-node-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, type EnvoiSandbox } from '../support/envoi-process.ts';

const run = promisify(execFile);
const EXAMPLE = path.resolve(import.meta.dirname, '../../examples/bootstrap.json');
const PERSONALISATION = { 'first name': 'Alex', 'reference number': 'R-1', 'has documents': 'yes' };

/** The fields a service reads back, which a restore must keep as they were (the template's URI names the host). */
function kept(n: Record<string, unknown>) {
  const { id, reference, type, status, body, subject, created_at, sent_at, completed_at } = n;
  const { id: templateId, version } = n.template as { id: string; version: number };
  const to = n.email_address ?? n.phone_number;
  return { id, reference, type, status, body, subject, created_at, sent_at, completed_at, to, templateId, version };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
}

/** Polls until every notification has left the queue (the sink provider delivers at once). */
async function settled(client: NotifyClient, ids: string[]): Promise<Record<string, unknown>[]> {
  for (;;) {
    const all = await Promise.all(ids.map(async (id) => (await client.getNotificationById(id)).data));
    if (all.every((n) => !['created', 'sending', 'pending'].includes(n.status))) return all;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.skipIf(!process.env.DATABASE_URL)('backup and restore with pg_dump and pg_restore', () => {
  let sandbox: EnvoiSandbox;
  let restoredName: string;
  const server = new URL(process.env.DATABASE_URL ?? 'postgres://unused');

  beforeAll(async () => {
    sandbox = await createSandbox('envoi-backup');
    restoredName = `${new URL(sandbox.env.DATABASE_URL!).pathname.slice(1)}_restored`;
  });

  afterAll(async () => {
    await sandbox?.cleanup();
    await run('dropdb', ['--if-exists', '--force', `--maintenance-db=${server}`, restoredName]).catch(() => {});
  });

  it('serves the same notifications, with the same API key, from a restored dump', async () => {
    const provisioned = JSON.parse((await sandbox.envoi('bootstrap', EXAMPLE)).stdout);
    const service = provisioned.services[0];
    const original = await sandbox.start();
    const client = new NotifyClient(original.url, service.api_keys.live);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const email = await client.sendEmail(service.templates.welcome, 'alex.tremblay@example.gc.ca', {
        personalisation: { ...PERSONALISATION, 'reference number': `R-${i}` },
        reference: `backup-${i}`,
      });
      ids.push(email.data.id);
    }
    const sms = await client.sendSms(service.templates.code, '+1 613 555 0134', {
      personalisation: { code: '123456' },
      reference: 'backup-sms',
    });
    ids.push(sms.data.id);
    const before = (await settled(client, ids)).map(kept);
    expect(before.map((n) => n.status)).toEqual([...Array(5).fill('delivered'), 'delivered']);

    // The steps of docs/operations.md, "Backups and restore": the dump is taken while Envoi runs.
    const source = sandbox.env.DATABASE_URL!;
    const dump = path.join(sandbox.dir, 'envoi.dump');
    await run('/usr/bin/pg_dump', ['--format=custom', `--file=${dump}`, source]);
    await stop(original.child);
    await run('/usr/bin/createdb', [`--maintenance-db=${server}`, restoredName]);
    const target = new URL(server);
    target.pathname = `/${restoredName}`;
    await run('/usr/bin/pg_restore', [
      '--no-owner',
      '--no-privileges',
      '--exit-on-error',
      '--single-transaction',
      `--dbname=${target}`,
      dump,
    ]);

    const restored = await sandbox.start({ DATABASE_URL: target.toString() });
    try {
      const again = new NotifyClient(restored.url, service.api_keys.live);
      const after = await Promise.all(ids.map(async (id) => kept((await again.getNotificationById(id)).data)));
      expect(after).toEqual(before);
      // And it carries on: a new send is accepted and delivered from the restored database.
      const next = await again.sendEmail(service.templates.welcome, 'alex.tremblay@example.gc.ca', {
        personalisation: PERSONALISATION,
      });
      expect((await settled(again, [next.data.id]))[0]!.status).toBe('delivered');
    } finally {
      await stop(restored.child);
    }
  });
});
