/** A service's template folders (template_folders), always scoped by service. */
import { sql } from 'kysely';
import type { Db } from '../../platform/database/connection.ts';

export interface TemplateFolder {
  id: string;
  parentId: string | null;
  name: string;
}

function toFolder(r: { id: string; parent_id: string | null; name: string }): TemplateFolder {
  return { id: r.id, parentId: r.parent_id, name: r.name };
}

export async function findFolder(db: Db, serviceId: string, folderId: string): Promise<TemplateFolder | null> {
  const row = await db
    .selectFrom('template_folders')
    .select(['id', 'parent_id', 'name'])
    .where('service_id', '=', serviceId)
    .where('id', '=', folderId)
    .executeTakeFirst();
  return row ? toFolder(row) : null;
}

/** The folders inside `parentId` (null: the top level), by name. */
export async function findSubfolders(db: Db, serviceId: string, parentId: string | null): Promise<TemplateFolder[]> {
  let folders = db
    .selectFrom('template_folders')
    .select(['id', 'parent_id', 'name'])
    .where('service_id', '=', serviceId);
  folders = parentId ? folders.where('parent_id', '=', parentId) : folders.where('parent_id', 'is', null);
  return (await folders.orderBy(sql`lower(name)`).orderBy('id').execute()).map(toFolder);
}

/** Every folder of the service, in no order. */
export async function findFolders(db: Db, serviceId: string): Promise<TemplateFolder[]> {
  const rows = await db
    .selectFrom('template_folders')
    .select(['id', 'parent_id', 'name'])
    .where('service_id', '=', serviceId)
    .execute();
  return rows.map(toFolder);
}

/** Whether `parentId` (null: the top level) holds a folder of this name, whatever its case. */
export async function folderNameTaken(
  db: Db,
  serviceId: string,
  parentId: string | null,
  name: string,
): Promise<boolean> {
  let same = db
    .selectFrom('template_folders')
    .select('id')
    .where('service_id', '=', serviceId)
    .where(sql`lower(name)`, '=', name.toLowerCase());
  same = parentId ? same.where('parent_id', '=', parentId) : same.where('parent_id', 'is', null);
  return (await same.executeTakeFirst()) !== undefined;
}

/** Adds a folder; resolves its id. */
export async function insertFolder(db: Db, serviceId: string, parentId: string | null, name: string): Promise<string> {
  const row = await db
    .insertInto('template_folders')
    .values({ service_id: serviceId, parent_id: parentId, name })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}
