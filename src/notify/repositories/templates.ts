/** Templates and their versions (templates, template_history), always scoped by service. */
import { sql, type Selectable } from 'kysely';
import type { Db } from '../../platform/database/connection.ts';
import type { TemplateCategory, TemplateType } from '../vocabulary.ts';
import type { TemplatesTable } from '../schema.ts';

export type TemplateRow = Selectable<TemplatesTable>;

/** The service's template provisioned under this key (bootstrap files name templates by key). */
export async function findTemplateByKey(db: Db, serviceId: string, key: string): Promise<TemplateRow | undefined> {
  return db
    .selectFrom('templates')
    .selectAll()
    .where('service_id', '=', serviceId)
    .where('key', '=', key)
    .executeTakeFirst();
}

/** Changes what is not versioned: the priority lane and whether the template is archived. */
export async function setTemplateCategoryAndArchived(
  db: Db,
  serviceId: string,
  id: string,
  state: { category: TemplateCategory; archived: boolean },
): Promise<void> {
  await db
    .updateTable('templates')
    .set({ ...state, updated_at: new Date() })
    .where('id', '=', id)
    .where('service_id', '=', serviceId)
    .execute();
}

/** One version of a template as it is saved: the templates row and its template_history row say the same. */
export interface TemplateVersion {
  id: string;
  serviceId: string;
  version: number;
  name: string;
  type: TemplateType;
  /** Kept for emails only. */
  subject: string | null;
  content: string;
  category: TemplateCategory;
  createdById: string | null;
  /** When the template was first created (every version keeps it, as Notify's history does). */
  createdAt: Date;
  /** When this version was saved. */
  savedAt: Date;
  /** Version 1 only: the bootstrap key, whether it starts archived, and its folder in the web UI. */
  key?: string | null;
  archived?: boolean;
  folderId?: string | null;
}

/**
 * Saves a template's next version: the templates row (inserted for version 1, brought to the new version
 * after that) and the version's template_history row. Bootstrap files and the web UI both save through here.
 */
export async function writeTemplateVersion(db: Db, v: TemplateVersion): Promise<void> {
  const fields = {
    name: v.name,
    subject: v.type === 'email' ? v.subject : null,
    content: v.content,
    category: v.category,
  };
  if (v.version === 1) {
    await db
      .insertInto('templates')
      .values({
        id: v.id,
        service_id: v.serviceId,
        key: v.key ?? null,
        type: v.type,
        ...fields,
        version: 1,
        archived: v.archived ?? false,
        folder_id: v.folderId ?? null,
        created_by_id: v.createdById,
        created_at: v.createdAt,
        updated_at: null,
      })
      .execute();
  } else {
    await db
      .updateTable('templates')
      .set({ ...fields, version: v.version, updated_at: v.savedAt })
      .where('id', '=', v.id)
      .where('service_id', '=', v.serviceId)
      .execute();
  }
  await db
    .insertInto('template_history')
    .values({
      id: v.id,
      version: v.version,
      service_id: v.serviceId,
      type: v.type,
      ...fields,
      created_by_id: v.createdById,
      created_at: v.createdAt,
      updated_at: v.version > 1 ? v.savedAt : null,
    })
    .execute();
}

/** Templates (`t`) with their creator's address (`created_by`), to narrow down. */
function selectTemplates(db: Db) {
  return db
    .selectFrom('templates as t')
    .leftJoin('users as u', 'u.id', 't.created_by_id')
    .selectAll('t')
    .select('u.email_address as created_by');
}

/** The content of these template versions, in one query. */
export async function findTemplateVersions(
  db: Db,
  wanted: readonly { id: string; version: number }[],
): Promise<{ id: string; version: number; content: string }[]> {
  return db
    .selectFrom('template_history')
    .select(['id', 'version', 'content'])
    .where((eb) => eb.or(wanted.map((w) => eb.and([eb('id', '=', w.id), eb('version', '=', w.version)]))))
    .execute();
}

/** One saved version of a template (template_history), as a job renders it. */
export async function findTemplateVersion(
  db: Db,
  id: string,
  version: number,
): Promise<{ name: string; subject: string | null; content: string; category: TemplateCategory }> {
  return db
    .selectFrom('template_history')
    .select(['name', 'subject', 'content', 'category'])
    .where('id', '=', id)
    .where('version', '=', version)
    .executeTakeFirstOrThrow();
}

/** The content of one version of one of a service's templates. */
export async function findTemplateVersionContent(
  db: Db,
  serviceId: string,
  templateId: string,
  version: number,
): Promise<{ content: string } | undefined> {
  return db
    .selectFrom('template_history')
    .select('content')
    .where('service_id', '=', serviceId)
    .where('id', '=', templateId)
    .where('version', '=', version)
    .executeTakeFirst();
}

/** A template's name and whether it is archived or hidden (archived and hidden ones too). */
export async function findTemplateState(
  db: Db,
  serviceId: string,
  templateId: string,
): Promise<{ name: string; archived: boolean; hidden: boolean } | undefined> {
  return db
    .selectFrom('templates')
    .select(['name', 'archived', 'hidden'])
    .where('service_id', '=', serviceId)
    .where('id', '=', templateId)
    .executeTakeFirst();
}

/** One of the service's templates (hidden ones too), with its creator's address, or undefined. */
export async function findTemplate(db: Db, serviceId: string, templateId: string) {
  return selectTemplates(db).where('t.service_id', '=', serviceId).where('t.id', '=', templateId).executeTakeFirst();
}

/** One of the service's templates that is not hidden, with its creator's address, or undefined. */
export async function findVisibleTemplate(db: Db, serviceId: string, templateId: string) {
  return selectTemplates(db)
    .where('t.service_id', '=', serviceId)
    .where('t.id', '=', templateId)
    .where('t.hidden', '=', false)
    .executeTakeFirst();
}

/** The service's live templates (neither hidden nor archived), of one type or all, by name then type. */
export async function findLiveTemplates(db: Db, serviceId: string, type?: TemplateType) {
  let q = selectTemplates(db)
    .where('t.service_id', '=', serviceId)
    .where('t.hidden', '=', false)
    .where('t.archived', '=', false);
  if (type) q = q.where('t.type', '=', type);
  return q.orderBy('t.name').orderBy('t.type').execute();
}

/** The live templates inside a folder (null: the top level), by name. */
export async function findLiveTemplatesIn(db: Db, serviceId: string, folderId: string | null) {
  let templates = db
    .selectFrom('templates')
    .select(['id', 'name', 'type', 'folder_id', 'created_at', 'updated_at'])
    .where('service_id', '=', serviceId)
    .where('archived', '=', false)
    .where('hidden', '=', false);
  templates = folderId ? templates.where('folder_id', '=', folderId) : templates.where('folder_id', 'is', null);
  return templates.orderBy(sql`lower(name)`).orderBy('id').execute();
}

/**
 * One of the service's templates that is not hidden, its row locked until the transaction `trx` ends (so that two
 * people saving at once make versions n+1 and n+2, not two n+1).
 */
export async function lockVisibleTemplate(trx: Db, serviceId: string, templateId: string) {
  return trx
    .selectFrom('templates')
    .selectAll()
    .where('service_id', '=', serviceId)
    .where('id', '=', templateId)
    .where('hidden', '=', false)
    .forUpdate()
    .executeTakeFirst();
}

/** Moves a template to a folder (null: the top level); not a new version. */
export async function setTemplateFolder(
  db: Db,
  serviceId: string,
  templateId: string,
  folderId: string | null,
): Promise<void> {
  await db
    .updateTable('templates')
    .set({ folder_id: folderId })
    .where('id', '=', templateId)
    .where('service_id', '=', serviceId)
    .execute();
}

/** Archives one of the service's templates that is not hidden; resolves whether there was one. */
export async function archiveVisibleTemplate(db: Db, serviceId: string, templateId: string): Promise<boolean> {
  const result = await db
    .updateTable('templates')
    .set({ archived: true, updated_at: new Date() })
    .where('service_id', '=', serviceId)
    .where('id', '=', templateId)
    .where('hidden', '=', false)
    .executeTakeFirst();
  return result.numUpdatedRows !== 0n;
}

/** Every version of a template, newest first, with the name of who saved it (`saved_by`). */
export async function findTemplateHistory(db: Db, serviceId: string, templateId: string) {
  return db
    .selectFrom('template_history as h')
    .leftJoin('users as u', 'u.id', 'h.created_by_id')
    .select([
      'h.version',
      'h.name',
      'h.type',
      'h.subject',
      'h.content',
      'h.category',
      'h.created_at',
      'h.updated_at',
      'u.name as saved_by',
    ])
    .where('h.service_id', '=', serviceId)
    .where('h.id', '=', templateId)
    .orderBy('h.version', 'desc')
    .execute();
}

/**
 * One version of one of the service's templates as the API reads it: the version's fields, whether the template is
 * hidden, and its creator's address (`created_by`).
 */
export async function findTemplateVersionRecord(db: Db, serviceId: string, templateId: string, version: number) {
  return db
    .selectFrom('template_history as h')
    .innerJoin('templates as t', 't.id', 'h.id')
    .leftJoin('users as u', 'u.id', 'h.created_by_id')
    .select([
      'h.id',
      'h.service_id',
      'h.name',
      'h.type',
      'h.subject',
      'h.content',
      'h.category',
      'h.version',
      'h.created_at',
      'h.updated_at',
      't.hidden',
      'u.email_address as created_by',
    ])
    .where('h.service_id', '=', serviceId)
    .where('h.id', '=', templateId)
    .where('h.version', '=', version)
    .executeTakeFirst();
}

/** Names and types of some of a service's templates (archived and hidden ones too). */
export async function findTemplateNames(
  db: Db,
  serviceId: string,
  ids: readonly string[],
): Promise<Array<{ id: string; name: string; type: TemplateType }>> {
  return db
    .selectFrom('templates')
    .select(['id', 'name', 'type'])
    .where('service_id', '=', serviceId)
    .where('id', 'in', ids)
    .execute();
}
