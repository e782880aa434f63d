/**
 * Preparing a claimed batch of callbacks: each row's receiver (its URL, token and signing secret, opened) and its
 * payload, or why it will not be sent.
 */
import type { Db } from '../../../platform/database/connection.ts';
import type { Logger } from '../../../platform/queue/background.ts';
import { SecretBoxError, type SecretBox } from '../../../platform/secret-box.ts';
import { findCallbackReceivers } from '../../repositories/callbacks.ts';
import { ensureWebhookSecret } from '../../settings/callback-settings.ts';
import { buildPayloads, type CallbackPayload, type QueuedCallback } from './payloads.ts';
import { subjectName } from './responses.ts';

export interface ClaimedCallback extends QueuedCallback {
  attempts: number;
  created_at: Date;
}

export interface CallbackSetting {
  url: string;
  bearerToken: string;
  webhookSecret: string;
  disabled: string | null;
}

/** A claimed row ready to go: its payload and where to send it, or why it will not be sent. */
export interface Prepared {
  row: ClaimedCallback;
  startBy: number;
  send: { setting: CallbackSetting; body: string } | { drop: string } | { fail: string };
}

export async function prepare(
  db: Db,
  secrets: SecretBox,
  rows: ClaimedCallback[],
  startBy: number,
  log?: Logger,
): Promise<Prepared[]> {
  const settings = await loadSettings(db, secrets, [...new Set(rows.map((r) => r.service_id))], log);
  const payloads = await buildPayloads(db, rows);
  return rows.map((row): Prepared => {
    const setting = settings.get(`${row.service_id}:${row.callback_type}`);
    const payload: CallbackPayload | undefined = payloads.get(row.id);
    let send: Prepared['send'];
    if (!setting) send = { drop: `the service has no ${row.callback_type} callback any more` };
    else if ('unusable' in setting) send = { fail: setting.unusable };
    else if (setting.disabled) send = { drop: `the callback is disabled: ${setting.disabled}` };
    else if (!payload) send = { drop: `its ${subjectName(row.callback_type)} no longer exists (retention)` };
    else send = { setting, body: JSON.stringify(payload) };
    return { row, startBy, send };
  });
}

/** The services' callbacks, keyed `service:type`, opened; `unusable` when their secrets cannot be opened. */
async function loadSettings(
  db: Db,
  secrets: SecretBox,
  serviceIds: string[],
  log?: Logger,
): Promise<Map<string, CallbackSetting | { unusable: string }>> {
  const stored = await findCallbackReceivers(db, serviceIds);
  const settings = new Map<string, CallbackSetting | { unusable: string }>();
  for (const s of stored) {
    let setting: CallbackSetting | { unusable: string };
    try {
      setting = {
        url: s.url,
        bearerToken: secrets.open(s.bearer_token_sealed),
        webhookSecret: s.webhook_secret_sealed
          ? secrets.open(s.webhook_secret_sealed)
          : await ensureWebhookSecret(db, secrets, s.service_id),
        disabled: s.disabled_at ? (s.disabled_reason ?? 'disabled') : null,
      };
    } catch (err) {
      // Sealed under another ENVOI_SECRET_KEY: retried, so that an operator who fixes the key loses nothing.
      if (!(err instanceof SecretBoxError)) throw err;
      log?.error(
        { err, serviceId: s.service_id, type: s.callback_type },
        'cannot open a callback token or webhook secret',
      );
      setting = { unusable: `cannot open the callback's token or signing secret: ${(err as Error).message}` };
    }
    settings.set(`${s.service_id}:${s.callback_type}`, setting);
  }
  return settings;
}
