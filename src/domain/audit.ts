/**
 * The audit log of security events: who did what, to whom, when and from where. Rows are only ever added;
 * platform admins read them, newest first.
 */
import { sql } from 'kysely';
import type { Db } from '../db/connection.ts';

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
  details?: Record<string, unknown>;
}

export interface AuditEntry {
  id: number;
  event: string;
  createdAt: Date;
  ip: string | null;
  details: Record<string, unknown>;
  actor: { id: string; name: string; email: string } | null;
  user: { id: string; name: string; email: string } | null;
}

export async function recordAudit(db: Db, input: AuditInput): Promise<void> {
  await db
    .insertInto('audit_events')
    .values({
      event: input.event,
      actor_id: input.actorId,
      user_id: input.userId,
      ip: input.ip,
      details: JSON.stringify(input.details ?? {}),
    })
    .execute();
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
  let q = db
    .selectFrom('audit_events as a')
    .leftJoin('users as actor', 'actor.id', 'a.actor_id')
    .leftJoin('users as subject', 'subject.id', 'a.user_id')
    .select([
      'a.id',
      'a.event',
      'a.created_at',
      'a.ip',
      'a.details',
      'actor.id as actor_id',
      'actor.name as actor_name',
      'actor.email_address as actor_email',
      'subject.id as subject_id',
      'subject.name as subject_name',
      'subject.email_address as subject_email',
    ])
    .orderBy('a.created_at', 'desc')
    .orderBy('a.id', 'desc');
  if (query.event) q = q.where('a.event', '=', query.event);
  if (query.user) {
    const pattern = `%${query.user.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    q = q.where((eb) =>
      eb.or([
        eb(sql`lower(actor.email_address)`, 'like', pattern),
        eb(sql`lower(subject.email_address)`, 'like', pattern),
      ]),
    );
  }
  const rows = await q
    .limit(query.pageSize + 1)
    .offset((Math.max(1, query.page) - 1) * query.pageSize)
    .execute();
  return {
    hasNext: rows.length > query.pageSize,
    entries: rows.slice(0, query.pageSize).map((r) => ({
      id: Number(r.id),
      event: r.event,
      createdAt: r.created_at,
      ip: r.ip,
      details: (typeof r.details === 'string' ? JSON.parse(r.details) : r.details) as Record<string, unknown>,
      actor: r.actor_id ? { id: r.actor_id, name: r.actor_name ?? '', email: r.actor_email ?? '' } : null,
      user: r.subject_id ? { id: r.subject_id, name: r.subject_name ?? '', email: r.subject_email ?? '' } : null,
    })),
  };
}
