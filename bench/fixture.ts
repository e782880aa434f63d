/** What every benchmark sets up: a scratch database on the local PostgreSQL server and one unlimited service. */
import { openDatabase, type DbHandle } from '../src/platform/database/connection.ts';
import { migrate } from '../src/platform/database/migrate.ts';
import { MIGRATIONS } from '../src/migrations.ts';
import { applyBootstrap } from '../src/notify/provisioning/apply-bootstrap.ts';
import { checkBootstrapFile } from '../src/notify/provisioning/bootstrap-file.ts';
import { SecretBox } from '../src/platform/secret-box.ts';
import { parseApiKeyString } from '../src/notify/settings/api-keys.ts';
import { ADMIN_URL, dropDatabase, onAdmin } from './machine.ts';

export interface BenchDatabase {
  url: string;
  handle: DbHandle;
  /** Drops the database when the bench created it. */
  dispose(): Promise<void>;
}

/** DATABASE_URL as is (never dropped), else a fresh migrated `envoi_bench_<label>_<pid>`, dropped by dispose(). */
export async function openBenchDatabase(env: NodeJS.ProcessEnv, label: string, poolSize = 2): Promise<BenchDatabase> {
  if (env.DATABASE_URL) {
    const handle = await openDatabase({ databaseUrl: env.DATABASE_URL, poolSize });
    await migrate(handle, MIGRATIONS);
    return { url: env.DATABASE_URL, handle, dispose: () => handle.close() };
  }
  const name = `envoi_bench_${label}_${process.pid}`;
  await onAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await onAdmin(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const handle = await openDatabase({ databaseUrl: url.toString(), poolSize });
  await migrate(handle, MIGRATIONS);
  let disposed = false;
  return {
    url: url.toString(),
    handle,
    async dispose() {
      if (disposed) return;
      disposed = true;
      await handle.close().catch(() => {});
      await dropDatabase(name);
    },
  };
}

export const BENCH_SUBJECT = 'Application ((reference)) received';
export const BENCH_CONTENT =
  '# Application received\r\n\r\nHello ((name)),\r\n\r\nYour application ((reference)) has been received. ' +
  'We will contact you within 10 business days.\r\n\r\n^ Keep this email for your records.';

export interface BenchService {
  serviceId: string;
  templateId: string;
  /** The full API key string, and its secret for signing tokens. */
  key: string;
  secret: string;
}

/**
 * A live service without limits and one email template. Its name is unique to the run, so that on a shared
 * DATABASE_URL the rows a bench counts are its own.
 */
export async function provisionBenchService(
  db: DbHandle,
  secretKey: string,
  opts: { maxRows?: number } = {},
): Promise<BenchService> {
  const file = checkBootstrapFile(
    {
      services: [
        {
          name: `Envoi bench ${process.pid} ${Date.now()}`,
          restricted: false,
          permissions: ['email'],
          max_rows: opts.maxRows ?? 50_000,
          message_limit: { email: 2_000_000_000, sms: 2_000_000_000, international_sms: 2_000_000_000 },
          rate_limit: 2_000_000_000,
          email_sender: 'bench',
          templates: [
            {
              key: 'bench-email',
              type: 'email',
              category: 'normal',
              versions: [{ name: 'Application received', subject: BENCH_SUBJECT, content: BENCH_CONTENT }],
            },
          ],
          api_keys: [{ name: 'bench-live', type: 'normal' }],
        },
      ],
    },
    'CA',
  );
  const result = await applyBootstrap(db.db, new SecretBox(secretKey), file, {
    phoneRegion: 'CA',
    emailDomain: 'notification.localhost',
  });
  const service = result.services[0]!;
  const key = service.api_keys['bench-live']!;
  const parsed = parseApiKeyString(key);
  if (!parsed) throw new Error('bootstrap returned an API key the bench cannot parse');
  return { serviceId: service.id, templateId: service.templates['bench-email']!, key, secret: parsed.secret };
}
