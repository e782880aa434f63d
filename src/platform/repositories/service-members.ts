/** Who belongs to which service (service_users). */
import type { Db } from '../database/connection.ts';

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
