/**
 * A running Envoi for integration tests: the real app on an ephemeral port over the test database (PGlite, or
 * PostgreSQL with DATABASE_URL), optionally with the delivery worker, provisioned from a bootstrap file.
 */
import { loadConfig, type Config } from '../../src/platform/config.ts';
import { createApp, createServices, type AppServices } from '../../src/app.ts';
import { applyBootstrap } from '../../src/notify/provisioning/apply-bootstrap.ts';
import {
  checkBootstrapFile,
  type BootstrapFile,
  type BootstrapResult,
} from '../../src/notify/provisioning/bootstrap-file.ts';
import { SecretBox } from '../../src/platform/secret-box.ts';
import { deliveryWork } from '../../src/notify/delivery/worker.ts';
import { jobWork, uploadCleanupWork } from '../../src/notify/jobs/job-loop.ts';
import { startAll } from '../../src/platform/queue/runner.ts';
import { openTestDatabase, type TestDatabase } from './database.ts';
import type { Logger } from 'pino';

export const TEST_SECRET_KEY = 'test-secret-key-that-is-long-enough-0123456789';

export interface RunningEnvoi {
  url: string;
  config: Config;
  database: TestDatabase;
  services: AppServices;
  provisioned: BootstrapResult;
  /** Applies another bootstrap file and forgets cached service facts, as the CLI bridge does. */
  bootstrap(file: BootstrapFile): Promise<BootstrapResult>;
  stop(): Promise<void>;
}

export async function startEnvoi(
  opts: { bootstrap?: BootstrapFile; worker?: boolean; env?: Record<string, string>; logger?: Logger } = {},
): Promise<RunningEnvoi> {
  const database = await openTestDatabase();
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    ENVOI_SECRET_KEY: TEST_SECRET_KEY,
    LOG_LEVEL: 'silent',
    WORKER_POLL_MS: '20',
    JOB_POLL_MS: '50',
    ...(database.url ? { DATABASE_URL: database.url } : {}),
    ...opts.env,
  });
  const services = createServices(config, database, TEST_SECRET_KEY, opts.logger);
  const app = await createApp(services, opts.logger ? { logger: opts.logger } : {});
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  // The delivery worker and the bulk jobs' entries of the catalogue: the callbacks and the scheduler stay off.
  const worker = opts.worker
    ? startAll(
        [
          deliveryWork({
            db: database.db,
            config,
            directory: services.directory,
            newWork: services.send.writer.committed,
          }),
          jobWork(services.jobs, { pollMs: config.jobs.pollMs }),
          uploadCleanupWork(services.jobs),
        ],
        { db: database.db },
      )
    : null;
  const bootstrap = async (file: BootstrapFile) => {
    const result = await applyBootstrap(
      database.db,
      new SecretBox(TEST_SECRET_KEY),
      checkBootstrapFile(file, config.phoneRegion),
      config,
    );
    services.directory.invalidate();
    return result;
  };
  const provisioned = opts.bootstrap ? await bootstrap(opts.bootstrap) : { services: [] };
  return {
    url,
    config,
    database,
    services,
    provisioned,
    bootstrap,
    async stop() {
      await worker?.stop();
      await services.jobs.idle();
      await app.close();
      await database.close();
    },
  };
}

/**
 * A test database provisioned from `file` (checked as `envoi bootstrap` checks it), with the configuration apps on
 * it take: for tests that start several API replicas of their own on one database.
 */
export async function provisionedDatabase(file: unknown) {
  const database = await openTestDatabase();
  const config = loadConfig({
    ENVOI_SECRET_KEY: TEST_SECRET_KEY,
    LOG_LEVEL: 'silent',
    ...(database.url ? { DATABASE_URL: database.url } : {}),
  });
  const provisioned = await applyBootstrap(
    database.db,
    new SecretBox(TEST_SECRET_KEY),
    checkBootstrapFile(file, config.phoneRegion),
    config,
  );
  return { database, config, provisioned };
}
