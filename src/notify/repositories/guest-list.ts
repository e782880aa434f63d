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
