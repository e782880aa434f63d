/** Invitations to a service's team (invitations): found by their link's hashed token, spent once. */
import { sql, type Insertable } from 'kysely';
import type { Db } from '../database/connection.ts';
import type { InvitationsTable } from '../database/schema.ts';
import type { Permission } from '../services/permissions.ts';

export interface InvitationRow {
  id: string;
  service_id: string;
  service_name: string;
  email_address: string;
  permissions: Permission[];
  invited_by: string | null;
  created_at: Date;
  expires_at: Date;
}

/** Open invitations (not accepted, cancelled or expired at `now`), with their service's name and the inviter's. */
function openInvitationQuery(db: Db, now: Date) {
  return db
    .selectFrom('invitations as i')
    .innerJoin('services as s', 's.id', 'i.service_id')
    .leftJoin('users as u', 'u.id', 'i.invited_by_id')
    .select([
      'i.id',
      'i.service_id',
      's.name as service_name',
      'i.email_address',
      'i.permissions',
      'u.name as invited_by',
      'i.created_at',
      'i.expires_at',
    ])
    .where('i.accepted_at', 'is', null)
    .where('i.cancelled_at', 'is', null)
    .where('i.expires_at', '>', now);
}

/** The service's open invitations, newest first. */
export async function openInvitations(db: Db, serviceId: string, now: Date): Promise<InvitationRow[]> {
  return openInvitationQuery(db, now).where('i.service_id', '=', serviceId).orderBy('i.created_at', 'desc').execute();
}

export async function openInvitationByTokenHash(
  db: Db,
  tokenHash: string,
  now: Date,
): Promise<InvitationRow | undefined> {
  return openInvitationQuery(db, now).where('i.token_hash', '=', tokenHash).executeTakeFirst();
}

/** Cancels the invitations to this address not yet accepted or cancelled. */
export async function cancelInvitationsTo(db: Db, serviceId: string, email: string, now: Date): Promise<void> {
  await db
    .updateTable('invitations')
    .set({ cancelled_at: now })
    .where('service_id', '=', serviceId)
    .where(sql`lower(email_address)`, '=', email.toLowerCase())
    .where('accepted_at', 'is', null)
    .where('cancelled_at', 'is', null)
    .execute();
}

export async function insertInvitation(db: Db, values: Insertable<InvitationsTable>): Promise<string> {
  const row = await db.insertInto('invitations').values(values).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

/** Cancels one invitation not yet accepted or cancelled; its address when there was one. */
export async function cancelInvitationRow(
  db: Db,
  serviceId: string,
  invitationId: string,
): Promise<string | undefined> {
  const row = await db
    .updateTable('invitations')
    .set({ cancelled_at: new Date() })
    .where('id', '=', invitationId)
    .where('service_id', '=', serviceId)
    .where('accepted_at', 'is', null)
    .where('cancelled_at', 'is', null)
    .returning('email_address')
    .executeTakeFirst();
  return row?.email_address;
}

/** Marks an invitation accepted unless it was accepted or cancelled meanwhile; whether it was. */
export async function spendInvitation(db: Db, invitationId: string, userId: string, now: Date): Promise<boolean> {
  const spent = await db
    .updateTable('invitations')
    .set({ accepted_at: now, accepted_by_id: userId })
    .where('id', '=', invitationId)
    .where('accepted_at', 'is', null)
    .where('cancelled_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return spent !== undefined;
}
