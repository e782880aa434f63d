/**
 * DATABASE_READ_URL: the reads that may lag (the activity page and its download, the dashboard) go to the read
 * replica, while who may see them, sends and GET /v2/notifications/{id} stay on the primary. Proven on a real
 * `envoi api` process whose "replica" is a copy of the primary's database that then diverges: each page shows the
 * rows of only one of the two. The settings' validation runs on both databases.
 */
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { ConfigError, loadConfig } from '../../src/platform/config.ts';
import { openDatabase, type Db, type DbHandle } from '../../src/platform/database/connection.ts';
import { createSandbox, type EnvoiSandbox } from '../support/envoi-process.ts';
import { TEST_SECRET_KEY } from '../support/envoi.ts';
import { bearer } from '../api/helpers.ts';
import { spawnEnvoi, waitUntilServing, type EnvoiProcess } from './processes.ts';
import { memberSession } from '../support/sessions.ts';
import { freePort } from '../support/ports.ts';

const PRIMARY_ONLY = 'only-on-primary@example.com';
const REPLICA_ONLY = 'only-on-replica@example.com';
const REPLICA_TEMPLATE_NAME = 'Renamed on the replica';

describe('DATABASE_READ_URL settings', () => {
  const primary = { DATABASE_URL: 'postgres://envoi@db.example.ca/envoi', ENVOI_SECRET_KEY: TEST_SECRET_KEY };

  it('is absent by default: every read goes to the primary', () => {
    expect(loadConfig(primary).databaseReadUrl).toBeNull();
    expect(loadConfig({}).databaseReadUrl).toBeNull();
  });

  it('takes a PostgreSQL URL beside DATABASE_URL', () => {
    const readUrl = 'postgresql://envoi@replica.example.ca/envoi';
    expect(loadConfig({ ...primary, DATABASE_READ_URL: readUrl }).databaseReadUrl).toBe(readUrl);
  });

  it('refuses another scheme, naming the variable without the password', () => {
    const attempt = () => loadConfig({ ...primary, DATABASE_READ_URL: 'mysql://envoi:hunter2@replica/envoi' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/^DATABASE_READ_URL must start with postgres:\/\/ or postgresql:\/\//);
    expect(attempt).not.toThrow(/hunter2/);
    expect(() => loadConfig({ ...primary, DATABASE_READ_URL: 'not a url' })).toThrow(/DATABASE_READ_URL is not/);
  });

  it('refuses a replica without a primary on PostgreSQL (the embedded database has none)', () => {
    expect(() => loadConfig({ DATABASE_READ_URL: 'postgres://envoi@replica.example.ca/envoi' })).toThrow(
      /DATABASE_READ_URL needs DATABASE_URL/,
    );
  });
});

describe.skipIf(!process.env.DATABASE_URL)('reads routed to DATABASE_READ_URL', () => {
  let sandbox: EnvoiSandbox;
  let primaryDb: DbHandle;
  let replicaDb: DbHandle;
  let dropReplica: () => Promise<void>;
  let api: EnvoiProcess;
  let url: string;
  let serviceId: string;
  let templateId: string;
  let apiKey: string;
  let cookie: string;

  beforeAll(async () => {
    sandbox = await createSandbox('envoi-read-replica');
    const file = path.join(sandbox.dir, 'bootstrap.json');
    await writeFile(file, JSON.stringify(bootstrapFile()));
    const bootstrapped = await sandbox.envoi('bootstrap', file);
    expect(bootstrapped.code, bootstrapped.stderr).toBe(0);
    const service = JSON.parse(bootstrapped.stdout).services[0];
    serviceId = service.id;
    templateId = service.templates.notice;
    apiKey = service.api_keys.live;

    // The "replica": a copy of the primary as it is now (schema, service, template), which then diverges.
    const copy = await copyDatabase(sandbox.env.DATABASE_URL!);
    dropReplica = copy.drop;
    primaryDb = await openDatabase({ databaseUrl: sandbox.env.DATABASE_URL!, poolSize: 2 });
    replicaDb = await openDatabase({ databaseUrl: copy.url, poolSize: 2 });
    await insertNotification(primaryDb.db, serviceId, templateId, PRIMARY_ONLY);
    await insertNotification(replicaDb.db, serviceId, templateId, REPLICA_ONLY);
    await replicaDb.db
      .updateTable('templates')
      .set({ name: REPLICA_TEMPLATE_NAME })
      .where('id', '=', templateId)
      .execute();
    // The member exists only on the primary: were the guard to read the replica, every page would be refused.
    cookie = `envoi_session=${await memberSession(primaryDb.db, 'robin.member@tbs-sct.gc.ca', { serviceId })}`;

    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    api = spawnEnvoi('api', {
      ...sandbox.env,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      DATABASE_READ_URL: copy.url,
    });
    await waitUntilServing(url, api);
  });

  afterAll(async () => {
    await api?.stop();
    await primaryDb?.close();
    await replicaDb?.close();
    await dropReplica?.();
    await sandbox?.cleanup();
  });

  const page = async (pathname: string) => {
    const response = await fetch(`${url}${pathname}`, { headers: { cookie } });
    expect(response.status, pathname).toBe(200);
    return response.text();
  };

  it('shows the activity page and its download from the replica', async () => {
    const activity = await page(`/services/${serviceId}/activity`);
    expect(activity).toContain(REPLICA_ONLY);
    expect(activity).not.toContain(PRIMARY_ONLY);
    const csv = await page(`/services/${serviceId}/activity/download`);
    expect(csv).toContain(REPLICA_ONLY);
    expect(csv).not.toContain(PRIMARY_ONLY);
  });

  it("shows the dashboard's figures from the replica", async () => {
    expect(await page(`/services/${serviceId}`)).toContain(REPLICA_TEMPLATE_NAME);
  });

  it('writes a send to the primary and reads it back from the primary at once', async () => {
    const sent = await fetch(`${url}/v2/notifications/email`, {
      method: 'POST',
      headers: { authorization: bearer(apiKey), 'content-type': 'application/json' },
      body: JSON.stringify({ email_address: 'fresh@example.com', template_id: templateId }),
    });
    expect(sent.status).toBe(201);
    const { id } = (await sent.json()) as { id: string };
    const got = await fetch(`${url}/v2/notifications/${id}`, { headers: { authorization: bearer(apiKey) } });
    expect(got.status).toBe(200);
    expect(((await got.json()) as { email_address: string }).email_address).toBe('fresh@example.com');
    const where = async (db: Db) =>
      (await db.selectFrom('notifications').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
    expect(await where(primaryDb.db)).toBe(true);
    expect(await where(replicaDb.db)).toBe(false);
  });
});

function bootstrapFile() {
  return {
    services: [
      {
        name: 'Read Replica Office',
        restricted: false,
        permissions: ['email'],
        email_sender: 'replica',
        templates: [
          {
            key: 'notice',
            type: 'email',
            versions: [{ name: 'Notice on the primary', subject: 'Notice', content: 'Hello' }],
          },
        ],
        api_keys: [{ name: 'live', type: 'normal' }],
      },
    ],
  };
}

/** A new database on the same server made from `url`'s as a template (nobody may be connected to it meanwhile). */
async function copyDatabase(url: string): Promise<{ url: string; drop(): Promise<void> }> {
  const source = new URL(url);
  const name = `${source.pathname.slice(1)}_replica`;
  const onServer = async (statement: string) => {
    const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await onServer(`CREATE DATABASE ${name} TEMPLATE ${source.pathname.slice(1)}`);
  const copy = new URL(url);
  copy.pathname = `/${name}`;
  return { url: copy.toString(), drop: () => onServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function insertNotification(db: Db, serviceId: string, templateId: string, to: string): Promise<void> {
  const now = new Date();
  await db
    .insertInto('notifications')
    .values({
      id: randomUUID(),
      service_id: serviceId,
      template_id: templateId,
      template_version: 1,
      key_type: 'normal',
      notification_type: 'email',
      to,
      normalised_to: to,
      body: 'Hello',
      status: 'delivered',
      created_at: now,
      next_attempt_at: now,
      sent_at: now,
      updated_at: now,
    })
    .execute();
}
