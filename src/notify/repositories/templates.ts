/** Templates and their versions (templates, template_history), always scoped by service. */
import type { Selectable } from 'kysely';
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

/** Templates (`t`) with their creator's address (`created_by`), for a caller to narrow down. */
export function selectTemplates(db: Db) {
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
