/** The services table: one row per service, whatever products it uses. */
import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Db } from '../database/connection.ts';
import type { ServicesTable } from '../database/schema.ts';

export type ServiceRow = Selectable<ServicesTable>;

/** The service with this id, or else (when no id is given) the one with this name. */
export async function findServiceByIdOrName(
  db: Db,
  by: { id?: string; name: string },
): Promise<ServiceRow | undefined> {
  const query = db.selectFrom('services').selectAll();
  return (by.id ? query.where('id', '=', by.id) : query.where('name', '=', by.name)).executeTakeFirst();
}

export async function insertService(db: Db, values: Insertable<ServicesTable>): Promise<void> {
  await db.insertInto('services').values(values).execute();
}

export async function updateService(db: Db, id: string, values: Updateable<ServicesTable>): Promise<void> {
  await db
    .updateTable('services')
    .set({ ...values, updated_at: new Date() })
    .where('id', '=', id)
    .execute();
}

export async function findServiceById(db: Db, id: string): Promise<ServiceRow | undefined> {
  return db.selectFrom('services').selectAll().where('id', '=', id).executeTakeFirst();
}
