/**
 * The delivery worker as an operator starts it, with no WORKER_* setting (issue 13 §8): its concurrency follows the
 * SMTP pool unless WORKER_CONCURRENCY says otherwise, and in `envoi start` a notification accepted while the worker
 * is idle leaves at once rather than at the end of the worker's idle wait.
 */
import path from 'node:path';
import { NotifyClient } from 'notifications-node-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config.ts';
import { createSandbox, type EnvoiSandbox } from '../support/envoi-process.ts';

const EXAMPLE_PATH = path.resolve(import.meta.dirname, '../../examples/bootstrap.json');
const SMTP = { EMAIL_PROVIDER: 'smtp', SMTP_URL: 'smtp://relay.example.ca:587' };

describe('the worker concurrency an operator gets', () => {
  it('follows the SMTP pool: four sends in flight per connection, never fewer than 20', () => {
    expect(loadConfig({ ...SMTP, SMTP_POOL_SIZE: '20' }).worker.concurrency).toBe(80);
    expect(loadConfig({ ...SMTP, SMTP_POOL_SIZE: '100' }).worker.concurrency).toBe(400);
    // SMTP_POOL_SIZE's default of 5 keeps the concurrency Envoi always had.
    expect(loadConfig(SMTP).worker.concurrency).toBe(20);
    expect(
      loadConfig({ EMAIL_PROVIDER: 'smtp,ses', SMTP_URL: SMTP.SMTP_URL, SMTP_POOL_SIZE: '10' }).worker.concurrency,
    ).toBe(40);
  });

  it('is 20 when no SMTP relay is used, whatever SMTP_POOL_SIZE says', () => {
    expect(loadConfig({}).worker.concurrency).toBe(20);
    expect(loadConfig({ EMAIL_PROVIDER: 'ses', SMTP_POOL_SIZE: '50' }).worker.concurrency).toBe(20);
  });

  it('is what WORKER_CONCURRENCY says when it is set, above or below the derived figure', () => {
    expect(loadConfig({ ...SMTP, SMTP_POOL_SIZE: '20', WORKER_CONCURRENCY: '7' }).worker.concurrency).toBe(7);
    expect(loadConfig({ ...SMTP, SMTP_POOL_SIZE: '20', WORKER_CONCURRENCY: '500' }).worker.concurrency).toBe(500);
    expect(() => loadConfig({ ...SMTP, SMTP_POOL_SIZE: '0' })).toThrow(/SMTP_POOL_SIZE must be a whole number/);
  });

  it('claims 250 at a time and waits 200 ms when idle, unless told otherwise', () => {
    const { worker } = loadConfig({ ...SMTP, SMTP_POOL_SIZE: '20' });
    expect(worker.batchSize).toBe(250);
    expect(worker.pollMs).toBe(200);
  });
});

describe('`envoi start` with a long idle wait', () => {
  // The longest WORKER_POLL_MS allowed: a message that waited for the worker's next poll would wait about a minute.
  const POLL_MS = 60_000;
  let sandbox: EnvoiSandbox;
  let client: InstanceType<typeof NotifyClient>;
  let templateId: string;

  beforeAll(async () => {
    sandbox = await createSandbox('envoi-wake', { WORKER_POLL_MS: String(POLL_MS) });
    const { url } = await sandbox.start();
    const provisioned = JSON.parse((await sandbox.envoi('bootstrap', EXAMPLE_PATH)).stdout);
    client = new NotifyClient(url, provisioned.services[0].api_keys.live);
    templateId = provisioned.services[0].templates.welcome;
  });

  afterAll(() => sandbox?.cleanup());

  async function sendAndWaitForDelivery(reference: string) {
    const personalisation = { 'first name': 'Alex', 'reference number': reference, 'has documents': 'no' };
    // The example's service is restricted: a member of its team may receive its messages.
    const sent = await client.sendEmail(templateId, 'alex.tremblay@example.gc.ca', { personalisation });
    for (;;) {
      const { data } = await client.getNotificationById(sent.data.id);
      if (data.status !== 'created') return data;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  it('delivers each message accepted while the worker is idle without waiting for its next poll', async () => {
    // The worker claimed once when it started, found nothing, and is in its idle wait; so again after each message.
    for (const reference of ['A-1', 'A-2', 'A-3']) {
      const data = await sendAndWaitForDelivery(reference);
      expect(data.status).toBe('delivered');
      const waited = Date.parse(data.sent_at!) - Date.parse(data.created_at);
      expect(waited).toBeLessThan(POLL_MS / 2);
    }
  });
});
