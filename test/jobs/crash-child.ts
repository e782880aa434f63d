/**
 * Child process of crash.test.ts: processes one job with a 1-second lease and, once the first batch of rows is
 * inside the open transaction, says "inserting" on stdout and waits there to be killed.
 *
 *   node --import tsx test/jobs/crash-child.ts <postgres URL | PGlite data folder> <job id>
 */
import { loadConfig } from '../../src/platform/config.ts';
import { openDatabase } from '../../src/platform/database/connection.ts';
import { createServices } from '../../src/app.ts';
import { TEST_SECRET_KEY } from '../support/envoi.ts';

const [target, jobId] = process.argv.slice(2) as [string, string];
const postgres = target.startsWith('postgres');
const database = await openDatabase(postgres ? { databaseUrl: target } : { databaseUrl: null, dataDir: target });
const config = loadConfig({
  ENVOI_SECRET_KEY: TEST_SECRET_KEY,
  JOB_LEASE_SECONDS: '1',
  LOG_LEVEL: 'silent',
  ...(postgres ? { DATABASE_URL: target } : {}),
});
const { jobs } = createServices(config, database, TEST_SECRET_KEY);
await jobs.processNext({
  jobId,
  onProgress: async () => {
    process.stdout.write('inserting\n');
    await new Promise(() => {}); // never: the parent kills this process here
  },
});
process.stdout.write('finished without being killed\n');
