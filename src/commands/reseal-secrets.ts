/**
 * The data work of `envoi rotate-secret-key`: every secret sealed at rest (API keys with their look-up digests,
 * callbacks' bearer tokens, services' webhook signing secrets, authenticator app secrets) opened with whichever key
 * sealed it and sealed again under the current ENVOI_SECRET_KEY. Each row is replaced only if it is still what was
 * read, so a secret changed meanwhile (already sealed under the current key by a replica) is left alone; running it
 * again is harmless and shows what is left.
 */
import type { Db } from '../platform/database/connection.ts';
import { type SecretBox, SecretBoxError } from '../platform/secret-box.ts';
import { listSealedTotpSecrets, resealTotpSecret } from '../platform/repositories/totp-secrets.ts';
import { listSealedApiKeys, resealApiKey } from '../notify/repositories/api-keys.ts';
import {
  listSealedCallbackTokens,
  listSealedWebhookSecrets,
  resealCallbackToken,
  resealWebhookSecret,
} from '../notify/repositories/callbacks.ts';

interface SealedRow {
  id: string;
  sealed: string;
  /** A keyed digest of the plain secret, kept beside it for look-ups (API keys). */
  digest?: string;
}

interface SealedColumn {
  name: string;
  list(db: Db): Promise<SealedRow[]>;
  replace(db: Db, row: SealedRow, sealed: string, digest: string): Promise<boolean>;
}

const SEALED_COLUMNS: SealedColumn[] = [
  {
    name: 'api_keys.secret_sealed',
    list: listSealedApiKeys,
    replace: (db, row, sealed, digest) => resealApiKey(db, row.id, row.sealed, sealed, digest),
  },
  {
    name: 'service_callbacks.bearer_token_sealed',
    list: listSealedCallbackTokens,
    replace: (db, row, sealed) => resealCallbackToken(db, row.id, row.sealed, sealed),
  },
  {
    name: 'services.webhook_secret_sealed',
    list: listSealedWebhookSecrets,
    replace: (db, row, sealed) => resealWebhookSecret(db, row.id, row.sealed, sealed),
  },
  {
    name: 'totp_secrets.secret_sealed',
    list: listSealedTotpSecrets,
    replace: (db, row, sealed) => resealTotpSecret(db, row.id, row.sealed, sealed),
  },
];

export interface ResealCount {
  column: string;
  /** Sealed again under the current key now. */
  resealed: number;
  /** Already under the current key. */
  current: number;
  /** Changed by someone else between reading and writing: sealed under the current key by then. */
  changed: number;
  /** Opened by none of the keys: sealed under a key that is no longer configured, or altered. */
  unreadable: number;
}

export async function resealSecrets(db: Db, box: SecretBox): Promise<ResealCount[]> {
  const counts: ResealCount[] = [];
  for (const column of SEALED_COLUMNS) {
    const count = { column: column.name, resealed: 0, current: 0, changed: 0, unreadable: 0 };
    for (const row of await column.list(db)) {
      let opened: ReturnType<SecretBox['reseal']>;
      try {
        opened = box.reseal(row.sealed);
      } catch (err) {
        if (!(err instanceof SecretBoxError)) throw err;
        count.unreadable++;
        continue;
      }
      const digest = box.digest(opened.plain);
      if (opened.resealed === null && (row.digest === undefined || row.digest === digest)) {
        count.current++;
      } else if (await column.replace(db, row, opened.resealed ?? row.sealed, digest)) {
        count.resealed++;
      } else {
        count.changed++;
      }
    }
    counts.push(count);
  }
  return counts;
}
