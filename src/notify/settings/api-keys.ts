/**
 * A service's API keys (created, listed, revoked) and the record of its last API requests. A key's secret is
 * sealed at rest; the full key string is built from it once, at creation, for the person who made the key.
 *
 * The request record never slows the accept path: a request adds one small object to an in-memory buffer, and a
 * timer writes the buffer every second in one INSERT, keeping only the last requests of each service.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../../platform/database/connection.ts';
import type { KeyType } from '../vocabulary.ts';
import type { SecretBox } from '../../platform/secret-box.ts';
import { isUuid } from '../../platform/ids.ts';
import {
  apiKeyNameExists,
  findApiKeySummary,
  insertApiKeyRow,
  listApiKeySummaries,
  revokeLiveApiKey,
} from '../repositories/api-keys.ts';
import {
  insertApiRequests,
  listRecentApiRequests,
  trimApiRequests,
  type NewApiRequest,
} from '../repositories/api-requests.ts';

export const KEY_TYPES: readonly KeyType[] = ['normal', 'team', 'test'];
export const KEY_NAME_MAX = 255;

// The API key string handed to users: `{name}-{service id}-{secret}`

/**
 * Splits a full API key string from the end, as every Notify client does, so names may contain `-` and GC's
 * `gcntfy-` prefix stays part of the name. Returns null when the string cannot be a key.
 */
export function parseApiKeyString(full: string): { name: string; serviceId: string; secret: string } | null {
  const key = String(full).trim();
  if (key.length < 73) return null;
  const serviceId = key.slice(-73, -37);
  const secret = key.slice(-36);
  if (key.charAt(key.length - 37) !== '-' || !isUuid(serviceId) || !isUuid(secret)) return null;
  if (key.length === 73) return { name: '', serviceId, secret };
  if (key.charAt(key.length - 74) !== '-') return null;
  return { name: key.slice(0, -74), serviceId, secret };
}

export function formatApiKeyString(name: string, serviceId: string, secret: string): string {
  return `${name}-${serviceId}-${secret}`;
}

/** `{name}-{service id}-{secret}`, with spaces in the name made underscores as Notify does. */
export function fullApiKey(name: string, serviceId: string, secret: string): string {
  return formatApiKeyString(name.replace(/\s+/g, '_'), serviceId, secret);
}

/** Adds a key (revoked at once when `revoked`); returns its id and secret. Names are unique in a service. */
export async function insertApiKey(
  db: Db,
  secrets: SecretBox,
  key: { serviceId: string; name: string; keyType: KeyType; revoked?: boolean },
): Promise<{ id: string; secret: string }> {
  const secret = randomUUID();
  const id = await insertApiKeyRow(db, {
    service_id: key.serviceId,
    name: key.name,
    key_type: key.keyType,
    secret_sealed: secrets.seal(secret),
    secret_digest: secrets.digest(secret),
    expiry_date: key.revoked ? new Date() : null,
  });
  return { id, secret };
}

export interface ApiKeyView {
  id: string;
  name: string;
  keyType: KeyType;
  createdAt: Date;
  revokedAt: Date | null;
}

/** A service's keys: live ones first, newest first. */
export async function listApiKeys(db: Db, serviceId: string): Promise<ApiKeyView[]> {
  const rows = await listApiKeySummaries(db, serviceId);
  const keys = rows.map((r) => ({
    id: r.id,
    name: r.name,
    keyType: r.key_type,
    createdAt: r.created_at,
    revokedAt: revokedAt(r.expiry_date),
  }));
  return [...keys.filter((k) => !k.revokedAt), ...keys.filter((k) => k.revokedAt)];
}

function revokedAt(expiry: Date | null): Date | null {
  return expiry && expiry.getTime() <= Date.now() ? expiry : null;
}

export async function findApiKey(db: Db, serviceId: string, keyId: string): Promise<ApiKeyView | null> {
  const r = await findApiKeySummary(db, serviceId, keyId);
  return r
    ? { id: r.id, name: r.name, keyType: r.key_type, createdAt: r.created_at, revokedAt: revokedAt(r.expiry_date) }
    : null;
}

export async function apiKeyNameTaken(db: Db, serviceId: string, name: string): Promise<boolean> {
  return apiKeyNameExists(db, serviceId, name);
}

/** Revokes a live key of the service; false when there is none (unknown, another service's, or revoked already). */
export async function revokeApiKey(db: Db, serviceId: string, keyId: string): Promise<boolean> {
  return revokeLiveApiKey(db, serviceId, keyId);
}

// ---------------------------------------------------------------------------------------------------------------
// Recent API requests

/** Requests kept per service, in memory between writes and in the table. */
export const API_REQUESTS_KEPT = 1000;

/** A service's requests not written yet, successes and failures apart so that a flood of one keeps the other. */
interface Pending {
  ok: NewApiRequest[];
  failed: NewApiRequest[];
}

/**
 * At most `n` of a service's requests from one interval, the newest, failures first: under load a second holds
 * thousands of successes, and what a team looks for is the failures among them.
 */
function latest(pending: Pending, n: number): NewApiRequest[] {
  const failures = pending.failed.slice(-Math.ceil(n / 2));
  const successes = pending.ok.slice(-(n - failures.length));
  return [...failures, ...successes].sort((a, b) => a.created_at.getTime() - b.created_at.getTime());
}

export interface ApiRequestLogOptions {
  flushMs?: number;
  keep?: number;
  onError?: (err: unknown) => void;
}

export class ApiRequestLog {
  /** Per service, the requests not written yet: at most twice `keep` of each kind, the oldest dropped first. */
  private pending = new Map<string, Pending>();
  /** Rows written per service since its table rows were last trimmed. */
  private readonly writtenSinceTrim = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  private readonly keep: number;
  private readonly perFlush: number;

  constructor(
    private readonly db: Db,
    private readonly opts: ApiRequestLogOptions = {},
  ) {
    this.keep = opts.keep ?? API_REQUESTS_KEPT;
    this.perFlush = Math.max(1, Math.floor(this.keep / 5));
    this.timer = setInterval(() => void this.flush(), opts.flushMs ?? 1000);
    this.timer.unref();
  }

  /** Called once per answered request: a push into memory, nothing else. */
  record(serviceId: string, apiKeyId: string | null, method: string, url: string, statusCode: number): void {
    let pending = this.pending.get(serviceId);
    if (!pending) this.pending.set(serviceId, (pending = { ok: [], failed: [] }));
    const list = statusCode >= 400 ? pending.failed : pending.ok;
    // Twice the bound before cutting back, so that a busy service costs one splice per `keep` requests.
    if (list.length >= this.keep * 2) list.splice(0, list.length - this.keep + 1);
    list.push({
      service_id: serviceId,
      api_key_id: apiKeyId,
      method,
      path: url,
      status_code: statusCode,
      created_at: new Date(),
    });
  }

  /**
   * Writes what is pending (at most a fifth of the bound per service, so a busy service writes a
   * few hundred small rows a second), then trims the table of services that wrote half the bound since.
   */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const rows: NewApiRequest[] = [];
    for (const pending of batch.values()) {
      for (const r of latest(pending, this.perFlush)) {
        // The path without its query string (which may hold a reference), and never longer than a URL should be.
        const q = r.path.indexOf('?');
        rows.push({ ...r, path: (q >= 0 ? r.path.slice(0, q) : r.path).slice(0, 300) });
      }
    }
    try {
      await insertApiRequests(this.db, rows);
      for (const [serviceId, pending] of batch) {
        const written =
          (this.writtenSinceTrim.get(serviceId) ?? 0) +
          Math.min(pending.ok.length + pending.failed.length, this.perFlush);
        if (written < this.keep / 2) {
          this.writtenSinceTrim.set(serviceId, written);
          continue;
        }
        this.writtenSinceTrim.set(serviceId, 0);
        await trimApiRequests(this.db, serviceId, this.keep);
      }
    } catch (err) {
      // A lost second of history is better than a backlog: the next flush starts afresh.
      this.opts.onError?.(err);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

export interface ApiRequestView {
  at: Date;
  method: string;
  path: string;
  statusCode: number;
  keyName: string | null;
}

/** A service's last requests, newest first; `failuresOnly`: those answered with an error. */
export async function listApiRequests(
  db: Db,
  serviceId: string,
  opts: { limit: number; failuresOnly?: boolean },
): Promise<ApiRequestView[]> {
  const rows = await listRecentApiRequests(db, serviceId, opts);
  return rows.map((r) => ({
    at: r.created_at,
    method: r.method,
    path: r.path,
    statusCode: r.status_code,
    keyName: r.name,
  }));
}
