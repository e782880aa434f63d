import { openTestDatabase } from '../test/support/database.ts';
import { startWorker } from '../src/delivery/worker.ts';
import { createService, createTemplate, insertNotification, notification, startSmtpPeer, testConfig } from '../test/delivery/fixtures.ts';
const tdb = await openTestDatabase();
const serviceId = await createService(tdb.db);
const template = await createTemplate(tdb.db, serviceId, { type: 'email', subject: 'S', content: 'Hi' });
const id = await insertNotification(tdb.db, { serviceId, template, type: 'email', to: 'a@example.com', subject: 'S', body: 'Hi' });
const port = 45999;
const t0 = Date.now();
const log = { info: (o: any, m?: string) => console.log(Date.now() - t0, 'info', m, JSON.stringify(o)), warn: (o: any, m?: string) => console.log(Date.now() - t0, 'warn', m, JSON.stringify(o)), error: (o: any, m?: string) => console.log(Date.now() - t0, 'error', m, o) };
const w = startWorker({ db: tdb.db, config: testConfig({ EMAIL_PROVIDER: 'smtp', SMTP_URL: `smtp://127.0.0.1:${port}`, WORKER_MAX_ATTEMPTS: '50' }), retryDelayMs: () => 200, logger: log });
await new Promise((r) => setTimeout(r, 1000));
const relay = await startSmtpPeer({ port });
console.log(Date.now() - t0, 'relay up');
for (;;) { const row = await notification(tdb.db, id); if (row.status !== 'created') { console.log(Date.now() - t0, row.status, row.attempts); break; } await new Promise((r) => setTimeout(r, 100)); }
await w.stop(); console.log(Date.now() - t0, 'stopped');
await relay.close(); await tdb.close();
