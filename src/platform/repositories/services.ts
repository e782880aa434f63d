/** The services table: one row per service, whatever products it uses. */
import { sql, type Insertable, type Selectable, type Updateable } from 'kysely';
import type { Db } from '../database/connection.ts';
import type { ServicesTable } from '../database/schema.ts';

export type ServiceRow = Selectable<ServicesTable>;

/** A product's columns of a new service's row (Notify: its email sender and daily limits). */
export type ProductColumns = Omit<Insertable<ServicesTable>, 'id' | 'name' | 'restricted' | 'active' | 'created_by_id'>;

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

/** Whether a service other than `exceptId` has this name, whatever its case. */
export async function serviceNameTaken(db: Db, name: string, exceptId: string | null): Promise<boolean> {
  let q = db.selectFrom('services').select('id').where(sql`lower(name)`, '=', name.toLowerCase());
  if (exceptId) q = q.where('id', '!=', exceptId);
  return (await q.executeTakeFirst()) !== undefined;
}

/** Every service, by name. */
export async function listServices(db: Db): Promise<Pick<ServiceRow, 'id' | 'name' | 'restricted' | 'active'>[]> {
  return db.selectFrom('services').select(['id', 'name', 'restricted', 'active']).orderBy('name').execute();
}

/** The services a person is a member of, by name. */
export async function servicesOfMember(
  db: Db,
  userId: string,
): Promise<Pick<ServiceRow, 'id' | 'name' | 'restricted' | 'active'>[]> {
  return db
    .selectFrom('services as s')
    .innerJoin('service_users as su', 'su.service_id', 's.id')
    .select(['s.id', 's.name', 's.restricted', 's.active'])
    .where('su.user_id', '=', userId)
    .orderBy('s.name')
    .execute();
}

/** A service with the person's membership there (user_id and permissions null when they are not a member). */
export async function findServiceWithMember(db: Db, serviceId: string, userId: string) {
  return db
    .selectFrom('services as s')
    .leftJoin('service_users as su', (join) => join.onRef('su.service_id', '=', 's.id').on('su.user_id', '=', userId))
    .select(['s.id', 's.name', 's.restricted', 's.active', 'su.permissions', 'su.user_id'])
    .where('s.id', '=', serviceId)
    .executeTakeFirst();
}

/** Suspends or restores a service that is not so already; its name when it changed. */
export async function updateServiceActive(db: Db, serviceId: string, active: boolean): Promise<string | undefined> {
  const row = await db
    .updateTable('services')
    .set({ active, suspended_at: active ? null : new Date(), updated_at: new Date() })
    .where('id', '=', serviceId)
    .where('active', '=', !active)
    .returning(['id', 'name'])
    .executeTakeFirst();
  return row?.name;
}
