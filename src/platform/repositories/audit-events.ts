/** The audit log (audit_events): rows are only ever added, and read newest first with the people they name. */
import { sql } from 'kysely';
import type { Db } from '../database/connection.ts';

export interface AuditEventValues {
  event: string;
  actorId: string | null;
  userId: string | null;
  ip: string | null;
  details?: Record<string, unknown>;
}

export async function insertAuditEvent(db: Db, input: AuditEventValues): Promise<void> {
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

export interface AuditEventFilter {
  /** Part of the email address of the person acting or acted upon. */
  user?: string;
  event?: string;
  limit: number;
  offset: number;
}

/** Events newest first, each with its actor and subject (null columns when the event names no one). */
export async function listAuditEvents(db: Db, filter: AuditEventFilter) {
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
  if (filter.event) q = q.where('a.event', '=', filter.event);
  if (filter.user) {
    const pattern = `%${filter.user.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    q = q.where((eb) =>
      eb.or([
        eb(sql`lower(actor.email_address)`, 'like', pattern),
        eb(sql`lower(subject.email_address)`, 'like', pattern),
      ]),
    );
  }
  return q.limit(filter.limit).offset(filter.offset).execute();
}

/** The names today of the services the events mention, by id (services that no longer exist are absent). */
export async function serviceNamesToday(db: Db, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('services')
    .select(['id', 'name'])
    .where('id', 'in', [...ids])
    .execute();
  return new Map(rows.map((s) => [s.id, s.name] as const));
}
