/**
 * The audit log of security events: who did what, to whom, when and from where. Rows are only ever added;
 * platform admins read them, newest first.
 */
import type { Db } from './database/connection.ts';
import { isUuid } from './ids.ts';
import { insertAuditEvent, listAuditEvents, serviceNamesToday } from './repositories/audit-events.ts';

/**
 * Events recorded so far. Later features add theirs (API keys, permissions) by adding a name here, so that the
 * filter on the audit page and its translations (audit.event.NAME) know them.
 */
export const AUDIT_EVENTS = [
  'account-created',
  'email-confirmed',
  'sign-in',
  'sign-in-failed',
  'second-factor-failed',
  'account-locked',
  'account-unlocked',
  'sign-out',
  'sign-out-everywhere',
  'password-reset-requested',
  'password-changed',
  'second-factor-changed',
  'second-factor-reset',
  'security-key-added',
  'security-key-removed',
  'platform-admin-created',
  'service-created',
  'member-invited',
  'invitation-cancelled',
  'invitation-accepted',
  'permissions-changed',
  'member-removed',
  'go-live-requested',
  'go-live-approved',
  'go-live-declined',
  'service-suspended',
  'service-restored',
  'service-limits-changed',
  'api-key-created',
  'api-key-revoked',
  'suppression-removed',
] as const;

export type AuditEventName = (typeof AUDIT_EVENTS)[number];

export interface AuditInput {
  event: AuditEventName;
  /** Who acted; null when no one was signed in (a failed sign-in, a reset link). */
  actorId: string | null;
  /** Whom the event is about. */
  userId: string | null;
  ip: string | null;
  /**
   * What the event was about, with camelCase keys: serviceId and serviceName, keyId, keyName and keyType (API
   * keys), securityKeyName, channel, recipient, reason, email, permissions, before and after (permissions, or
   * limits as { email, sms, internationalSms }), via, method, until.
   */
  details?: Record<string, unknown>;
}

export interface AuditEntry {
  id: number;
  event: string;
  createdAt: Date;
  ip: string | null;
  /** As recorded, with the keys of rows written before the camelCase spelling renamed (see OLD_DETAIL_KEYS). */
  details: Record<string, unknown>;
  /**
   * The service the event concerns (details.serviceId), named as recorded, or by its name today when the event
   * recorded none; the name is null for a service that no longer exists.
   */
  service: { id: string; name: string | null } | null;
  actor: { id: string; name: string; email: string } | null;
  user: { id: string; name: string; email: string } | null;
}

/**
 * Detail keys that rows written before every key was camelCase use, with today's name: rows keep what was
 * written, and listAudit reads them with today's names. `name` and `key` meant a different thing per event.
 */
const OLD_DETAIL_KEYS: Record<string, string> = {
  service_id: 'serviceId',
  service_name: 'serviceName',
  key_id: 'keyId',
  key_name: 'keyName',
  key_type: 'keyType',
};
const OLD_DETAIL_KEYS_BY_EVENT: Partial<Record<string, Record<string, string>>> = {
  'service-created': { name: 'serviceName' },
  'security-key-added': { name: 'securityKeyName' },
  'security-key-removed': { name: 'securityKeyName' },
  'sign-in': { key: 'securityKeyName' },
};
const LIMIT_KEYS = ['email', 'sms', 'internationalSms'] as const;

/** A stored row's details with today's key names; a key already spelt today's way wins over its old spelling. */
function currentDetails(event: string, stored: unknown): Record<string, unknown> {
  if (stored === null || stored === undefined) return {};
  // Not an object: kept whole rather than dropped, so that the page still shows it.
  if (typeof stored !== 'object' || Array.isArray(stored)) return { value: stored };
  const aliases: Record<string, string> = { ...OLD_DETAIL_KEYS, ...OLD_DETAIL_KEYS_BY_EVENT[event] };
  const details: Record<string, unknown> = {};
  const renamed: Array<[string, unknown]> = [];
  for (const [key, value] of Object.entries(stored)) {
    if (Object.hasOwn(aliases, key)) renamed.push([aliases[key]!, value]);
    else details[key] = value;
  }
  for (const [key, value] of renamed) if (!Object.hasOwn(details, key)) details[key] = value;
  // Limits were first recorded as the new values alone, beside serviceId.
  if (
    event === 'service-limits-changed' &&
    !Object.hasOwn(details, 'after') &&
    LIMIT_KEYS.some((k) => Object.hasOwn(details, k))
  ) {
    const after: Record<string, unknown> = {};
    for (const k of LIMIT_KEYS) {
      if (Object.hasOwn(details, k)) {
        after[k] = details[k];
        delete details[k];
      }
    }
    details.after = after;
  }
  return details;
}

export async function recordAudit(db: Db, input: AuditInput): Promise<void> {
  await insertAuditEvent(db, input);
}

export interface AuditQuery {
  /** Part of the email address of the person acting or acted upon. */
  user?: string;
  event?: string;
  page: number;
  pageSize: number;
}

/** One page of events, newest first, and whether there is a next page. */
export async function listAudit(db: Db, query: AuditQuery): Promise<{ entries: AuditEntry[]; hasNext: boolean }> {
  const rows = await listAuditEvents(db, {
    user: query.user,
    event: query.event,
    limit: query.pageSize + 1,
    offset: (Math.max(1, query.page) - 1) * query.pageSize,
  });
  const page = rows.slice(0, query.pageSize).map((r) => ({
    row: r,
    details: currentDetails(r.event, typeof r.details === 'string' ? JSON.parse(r.details) : r.details),
  }));
  const serviceIdOf = (details: Record<string, unknown>) => {
    const id = details.serviceId;
    return typeof id === 'string' && isUuid(id) ? id.toLowerCase() : null;
  };
  // Many events record only the service's id: one query names them all, so the page need not show bare ids.
  const unnamed = new Set<string>();
  for (const { details } of page) {
    const id = serviceIdOf(details);
    if (id && typeof details.serviceName !== 'string') unnamed.add(id);
  }
  const namesToday = await serviceNamesToday(db, [...unnamed]);
  return {
    hasNext: rows.length > query.pageSize,
    entries: page.map(({ row: r, details }) => {
      const serviceId = serviceIdOf(details);
      return {
        id: Number(r.id),
        event: r.event,
        createdAt: r.created_at,
        ip: r.ip,
        details,
        service: serviceId
          ? {
              id: serviceId,
              name: typeof details.serviceName === 'string' ? details.serviceName : (namesToday.get(serviceId) ?? null),
            }
          : null,
        actor: r.actor_id ? { id: r.actor_id, name: r.actor_name ?? '', email: r.actor_email ?? '' } : null,
        user: r.subject_id ? { id: r.subject_id, name: r.subject_name ?? '', email: r.subject_email ?? '' } : null,
      };
    }),
  };
}
