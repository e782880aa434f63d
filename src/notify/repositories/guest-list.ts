/** The guest list: who a service in trial mode may send to besides its team. */
import type { Db } from '../../platform/database/connection.ts';

export interface Guest {
  recipient_type: 'email' | 'sms';
  recipient: string;
}

/** Makes the service's guest list exactly `guests` (normalised recipients), keeping the rows that stay. */
export async function setGuestList(db: Db, serviceId: string, guests: Guest[]): Promise<void> {
  const key = (g: Guest) => `${g.recipient_type}:${g.recipient}`;
  const current = await db
    .selectFrom('guest_list')
    .select(['recipient_type', 'recipient'])
    .where('service_id', '=', serviceId)
    .execute();
  const want = new Set(guests.map(key));
  const have = new Set(current.map(key));
  for (const g of current.filter((g) => !want.has(key(g)))) {
    await db
      .deleteFrom('guest_list')
      .where('service_id', '=', serviceId)
      .where('recipient_type', '=', g.recipient_type)
      .where('recipient', '=', g.recipient)
      .execute();
  }
  const missing = guests.filter(
    (g, i) => !have.has(key(g)) && guests.findIndex((x) => x.recipient === g.recipient) === i,
  );
  if (missing.length) {
    await db
      .insertInto('guest_list')
      .values(missing.map((g) => ({ service_id: serviceId, ...g })))
      .execute();
  }
}

/** The service's guest list, as normalised recipients. */
export async function guestRecipients(db: Db, serviceId: string): Promise<string[]> {
  const rows = await db.selectFrom('guest_list').select('recipient').where('service_id', '=', serviceId).execute();
  return rows.map((r) => r.recipient);
}

/** The service's guest list, by type then recipient. */
export async function listGuestRows(db: Db, serviceId: string) {
  return db
    .selectFrom('guest_list')
    .select(['id', 'recipient_type', 'recipient'])
    .where('service_id', '=', serviceId)
    .orderBy('recipient_type')
    .orderBy('recipient')
    .execute();
}

/** Adds a guest; its id, or undefined when it was already there. */
export async function insertGuest(db: Db, serviceId: string, guest: Guest): Promise<string | undefined> {
  const row = await db
    .insertInto('guest_list')
    .values({ service_id: serviceId, ...guest })
    .onConflict((oc) => oc.doNothing())
    .returning('id')
    .executeTakeFirst();
  return row?.id;
}

/** Whether there was such a guest to remove. */
export async function deleteGuest(db: Db, serviceId: string, guestId: string): Promise<boolean> {
  const result = await db
    .deleteFrom('guest_list')
    .where('service_id', '=', serviceId)
    .where('id', '=', guestId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}
