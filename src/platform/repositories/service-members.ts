/** Who belongs to which service (service_users), and with what permissions. */
import { sql } from 'kysely';
import type { Db } from '../database/connection.ts';
import type { Permission } from '../services/permissions.ts';

/** Makes exactly these users the service's members: adds the missing ones, removes the others. */
export async function setServiceMembers(db: Db, serviceId: string, userIds: string[]): Promise<void> {
  for (const userId of userIds) {
    await db
      .insertInto('service_users')
      .values({ service_id: serviceId, user_id: userId })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
  let unlink = db.deleteFrom('service_users').where('service_id', '=', serviceId);
  if (userIds.length) unlink = unlink.where('user_id', 'not in', userIds);
  await unlink.execute();
}

/** The email address and mobile number of each member of the service's team. */
export async function teamContacts(
  db: Db,
  serviceId: string,
): Promise<{ email_address: string; mobile_number: string | null }[]> {
  return db
    .selectFrom('service_users as su')
    .innerJoin('users as u', 'u.id', 'su.user_id')
    .select(['u.email_address', 'u.mobile_number'])
    .where('su.service_id', '=', serviceId)
    .execute();
}

export async function insertMember(
  db: Db,
  serviceId: string,
  userId: string,
  permissions: Permission[],
): Promise<void> {
  await db.insertInto('service_users').values({ service_id: serviceId, user_id: userId, permissions }).execute();
}

/** The service's members with their names and addresses, by name then address. */
export async function listMemberRows(db: Db, serviceId: string) {
  return db
    .selectFrom('service_users as su')
    .innerJoin('users as u', 'u.id', 'su.user_id')
    .select(['u.id', 'u.name', 'u.email_address', 'su.permissions', 'su.created_at'])
    .where('su.service_id', '=', serviceId)
    .orderBy('u.name')
    .orderBy('u.email_address')
    .execute();
}

/** Locks the service's memberships until the transaction ends. */
export async function lockMembers(db: Db, serviceId: string): Promise<void> {
  await db.selectFrom('service_users').select('user_id').where('service_id', '=', serviceId).forUpdate().execute();
}

/** How many members can manage the service. */
export async function countManagers(db: Db, serviceId: string): Promise<number> {
  const row = await db
    .selectFrom('service_users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('service_id', '=', serviceId)
    .where(sql<boolean>`'manage_service' = ANY(permissions)`)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The member's permissions, or undefined when they are not a member. */
export async function memberPermissions(db: Db, serviceId: string, userId: string): Promise<Permission[] | undefined> {
  const row = await db
    .selectFrom('service_users')
    .select('permissions')
    .where('service_id', '=', serviceId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row?.permissions;
}

export async function updateMemberPermissions(
  db: Db,
  serviceId: string,
  userId: string,
  permissions: Permission[],
): Promise<void> {
  await db
    .updateTable('service_users')
    .set({ permissions })
    .where('service_id', '=', serviceId)
    .where('user_id', '=', userId)
    .execute();
}

/** Whether there was such a member to remove. */
export async function deleteMember(db: Db, serviceId: string, userId: string): Promise<boolean> {
  const removed = await db
    .deleteFrom('service_users')
    .where('service_id', '=', serviceId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return removed.numDeletedRows !== 0n;
}

/** Whether a member of the service has this email address, whatever its case. */
export async function memberWithEmailExists(db: Db, serviceId: string, email: string): Promise<boolean> {
  const row = await db
    .selectFrom('service_users as su')
    .innerJoin('users as u', 'u.id', 'su.user_id')
    .select('u.id')
    .where('su.service_id', '=', serviceId)
    .where(sql`lower(u.email_address)`, '=', email.toLowerCase())
    .executeTakeFirst();
  return row !== undefined;
}
