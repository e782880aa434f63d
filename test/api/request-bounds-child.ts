/**
 * Child process of request-bounds.test.ts: Envoi on the test database (PGlite, or PostgreSQL with DATABASE_URL)
 * in a process of its own, so that the event-loop delay it measures is the server's alone, not the client's
 * building and sending of large bodies. Over IPC it sends `{ url, key, templateId }` once started, then answers
 * `measure` (start measuring), `report` (the longest delay since, in ms) and `stop`.
 *
 *   fork('test/api/request-bounds-child.ts', { execArgv: ['--import', 'tsx'] })
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startEnvoi } from '../support/envoi.ts';
import { fixture } from './fixture.ts';

const envoi = await startEnvoi({ bootstrap: fixture() });
const live = envoi.provisioned.services[0]!;
const delay = monitorEventLoopDelay({ resolution: 10 });

process.on('message', async (message: string) => {
  if (message === 'measure') {
    delay.reset();
    delay.enable();
    process.send!('measuring');
  } else if (message === 'report') {
    delay.disable();
    process.send!({ maxDelayMs: delay.max / 1e6 });
  } else if (message === 'stop') {
    await envoi.stop();
    process.exit(0);
  }
});
process.send!({ url: envoi.url, key: live.api_keys.test, templateId: live.templates.email });
