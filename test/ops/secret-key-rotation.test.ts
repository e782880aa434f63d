/**
 * Rotating ENVOI_SECRET_KEY as docs/operations.md says, with real `envoi` processes on either database: restart with
 * the new key and the old one in ENVOI_SECRET_KEY_PREVIOUS (API keys keep working), `envoi rotate-secret-key`, then
 * the new key alone opens every secret (API keys, their ApiKey-v1 look-up, the callback token and webhook secret).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { NotifyClient } from 'notifications-node-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, type EnvoiSandbox } from '../support/envoi-process.ts';

const OLD_KEY = 'the-old-secret-key-of-at-least-32-characters';
const NEW_KEY = 'the-new-secret-key-of-at-least-32-characters';
const EXAMPLE = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../examples/bootstrap.json'), 'utf8'));
const PERSONALISATION = { 'first name': 'Alex', 'reference number': 'R-1', 'has documents': 'no' };

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
}

describe('rotating ENVOI_SECRET_KEY', () => {
  let sandbox: EnvoiSandbox;
  let bootstrapFile: string;
  let apiKeys = 0;
  let provisioned: { api_keys: Record<string, string>; templates: Record<string, string>; webhook_secret: string };

  beforeAll(async () => {
    sandbox = await createSandbox('envoi-rotation');
    sandbox.env.ENVOI_SECRET_KEY = OLD_KEY;
    bootstrapFile = path.join(sandbox.dir, 'bootstrap.json');
    const service = {
      ...EXAMPLE.services[0],
      callbacks: {
        delivery_status: { url: 'https://receiver.example.ca/status', bearer_token: 'a-bearer-token-1234' },
      },
    };
    writeFileSync(bootstrapFile, JSON.stringify({ services: [service] }));
    // Bootstrapping makes the data folder (slow on the embedded database), so it is done here rather than in a test.
    const first = await sandbox.envoi('bootstrap', bootstrapFile);
    expect(first.code).toBe(0);
    provisioned = JSON.parse(first.stdout).services[0];
  });

  afterAll(() => sandbox?.cleanup());

  /** Sends one email with the live key through a server started with the current keys; the status of the answer. */
  async function sendWith(liveKey: string, templateId: string): Promise<number> {
    const server = await sandbox.start();
    try {
      const client = new NotifyClient(server.url, liveKey);
      const sent = await client.sendEmail(templateId, 'alex.tremblay@example.gc.ca', {
        personalisation: PERSONALISATION,
      });
      // The ApiKey-v1 scheme finds the key by its keyed digest, which the rotation computes again.
      const byDigest = await fetch(`${server.url}/v2/notifications/${sent.data.id}`, {
        headers: { authorization: `ApiKey-v1 ${liveKey}` },
      });
      expect(byDigest.status).toBe(200);
      return sent.status;
    } finally {
      await stop(server.child);
    }
  }

  it('starts on the old key', async () => {
    expect(provisioned.webhook_secret).toMatch(/^whsec_/);
    expect(await sendWith(provisioned.api_keys.live!, provisioned.templates.welcome!)).toBe(201);
  });

  it('cannot read with the new key alone what the old one sealed: the command says so, and changes nothing', async () => {
    sandbox.env.ENVOI_SECRET_KEY = NEW_KEY;
    const refused = await sandbox.envoi('rotate-secret-key');
    expect(refused.code).toBe(1);
    // The service's three keys, and the key Envoi keeps for its own account messages.
    const unreadable = /^api_keys\.secret_sealed: 0 sealed again, 0 already under the current key, (\d+) UNREADABLE$/m;
    apiKeys = Number(unreadable.exec(refused.stdout)?.[1]);
    expect(apiKeys).toBeGreaterThanOrEqual(3);
    expect(refused.stderr).toContain('ENVOI_SECRET_KEY_PREVIOUS');
  });

  it('step 1: restarted with the new key and the old one as previous, the same API keys work', async () => {
    sandbox.env.ENVOI_SECRET_KEY_PREVIOUS = OLD_KEY;
    expect(await sendWith(provisioned.api_keys.live!, provisioned.templates.welcome!)).toBe(201);
  });

  it('step 2: envoi rotate-secret-key seals every secret again (on the embedded database, through the running server)', async () => {
    const server = await sandbox.start();
    const rotated = await sandbox.envoi('rotate-secret-key');
    await stop(server.child);
    expect(rotated.stderr).toBe('');
    expect(rotated.code).toBe(0);
    expect(rotated.stdout.split('\n')).toEqual([
      `api_keys.secret_sealed: ${apiKeys} sealed again, 0 already under the current key`,
      'service_callbacks.bearer_token_sealed: 1 sealed again, 0 already under the current key',
      'services.webhook_secret_sealed: 1 sealed again, 0 already under the current key',
      'totp_secrets.secret_sealed: 0 sealed again, 0 already under the current key',
      'Every secret is sealed under ENVOI_SECRET_KEY: ENVOI_SECRET_KEY_PREVIOUS can now be removed.',
      '',
    ]);
  });

  it('step 3: with the previous key removed, the same API keys work', async () => {
    delete sandbox.env.ENVOI_SECRET_KEY_PREVIOUS;
    expect(await sendWith(provisioned.api_keys.live!, provisioned.templates.welcome!)).toBe(201);
  });

  it('step 3, after: nothing is left to seal again, and every secret reads back the same', async () => {
    const again = await sandbox.envoi('rotate-secret-key');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`api_keys.secret_sealed: 0 sealed again, ${apiKeys} already under the current key`);
    const reread = JSON.parse((await sandbox.envoi('bootstrap', bootstrapFile)).stdout).services[0];
    expect(reread.api_keys).toEqual(provisioned.api_keys);
    expect(reread.webhook_secret).toBe(provisioned.webhook_secret);
  });
});
