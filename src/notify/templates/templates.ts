/**
 * A service's templates as people manage them in the web UI: folders, new templates, edits (each a new version,
 * kept in template_history), archiving, and reading the versions back. Every query is scoped by service. Versions
 * are written through bootstrap.ts `writeTemplateVersion`, the same path as provisioning files. No HTTP here.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../../platform/database/connection.ts';
import type { TemplateCategory, TemplateType } from '../vocabulary.ts';
import { isUuid } from '../../platform/ids.ts';
import {
  findFolder,
  findFolders,
  findSubfolders,
  folderNameTaken,
  insertFolder,
} from '../repositories/template-folders.ts';
import {
  archiveVisibleTemplate,
  findLiveTemplatesIn,
  findTemplateHistory,
  findTemplateNames,
  findVisibleTemplate,
  lockVisibleTemplate,
  setTemplateFolder,
  writeTemplateVersion,
} from '../repositories/templates.ts';
import { toTemplate, type TemplateRecord } from '../sending/service-directory.ts';
import { CodedError } from '../../platform/coded-error.ts';

export const TEMPLATE_CATEGORIES: readonly TemplateCategory[] = ['high', 'normal', 'bulk'];
export const FOLDER_NAME_MAX = 100;
export const TEMPLATE_NAME_MAX = 255;

export interface Folder {
  id: string;
  parentId: string | null;
  name: string;
}

export interface TemplateSummary {
  id: string;
  name: string;
  type: TemplateType;
  folderId: string | null;
  updatedAt: Date;
}

/** A template as its pages show it: the API's record of it, and the folder it sits in. */
export type TemplateDetail = TemplateRecord & { folderId: string | null };

export interface TemplateVersionView {
  version: number;
  name: string;
  type: TemplateType;
  subject: string | null;
  content: string;
  category: TemplateCategory;
  /** When this version was saved. */
  savedAt: Date;
  savedBy: string | null;
}

/** What a person writes: the fields of the create and edit forms. */
export interface TemplateFields {
  name: string;
  subject: string | null;
  content: string;
  category: TemplateCategory;
}

export class TemplateError extends CodedError<'not-found' | 'folder-not-found' | 'folder-name-taken'> {}

/** A folder of the service, or null (also for a malformed id, which can only come from a tampered URL). */
export async function folderOf(db: Db, serviceId: string, folderId: string): Promise<Folder | null> {
  if (!isUuid(folderId)) return null;
  return findFolder(db, serviceId, folderId);
}

/** The folders from the top level down to `folderId` (inclusive), for breadcrumbs. */
export async function folderPath(db: Db, serviceId: string, folderId: string | null): Promise<Folder[]> {
  const path: Folder[] = [];
  let id = folderId;
  // Bounded: folders cannot form a cycle (a parent is chosen at creation and never changes), but stay safe.
  for (let depth = 0; id && depth < 50; depth++) {
    const folder = await folderOf(db, serviceId, id);
    if (!folder) break;
    path.unshift(folder);
    id = folder.parentId;
  }
  return path;
}

/** What a folder holds (null: the top level): its subfolders, then its live templates, each by name. */
export async function folderContents(
  db: Db,
  serviceId: string,
  folderId: string | null,
): Promise<{ folders: Folder[]; templates: TemplateSummary[] }> {
  const [folders, templateRows] = await Promise.all([
    findSubfolders(db, serviceId, folderId),
    findLiveTemplatesIn(db, serviceId, folderId),
  ]);
  return {
    folders,
    templates: templateRows.map((r) => ({
      id: r.id,
      name: r.name,
      type: r.type,
      folderId: r.folder_id,
      updatedAt: r.updated_at ?? r.created_at,
    })),
  };
}

/** Every folder of the service with its full path as a name ("Benefits / Reminders"), for a folder picker. */
export async function allFolders(db: Db, serviceId: string): Promise<Array<{ id: string; label: string }>> {
  const rows = await findFolders(db, serviceId);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const label = (id: string): string => {
    const parts: string[] = [];
    for (let r = byId.get(id), depth = 0; r && depth < 50; r = r.parentId ? byId.get(r.parentId) : undefined, depth++)
      parts.unshift(r.name);
    return parts.join(' / ');
  };
  return rows.map((r) => ({ id: r.id, label: label(r.id) })).sort((a, b) => a.label.localeCompare(b.label));
}

export async function createFolder(db: Db, serviceId: string, parentId: string | null, name: string): Promise<string> {
  return db.transaction().execute(async (trx) => {
    if (parentId && !(await folderOf(trx, serviceId, parentId))) throw new TemplateError('folder-not-found');
    if (await folderNameTaken(trx, serviceId, parentId, name)) throw new TemplateError('folder-name-taken');
    return insertFolder(trx, serviceId, parentId, name);
  });
}

export async function templateOf(db: Db, serviceId: string, templateId: string): Promise<TemplateDetail | null> {
  if (!isUuid(templateId)) return null;
  const row = await findVisibleTemplate(db, serviceId, templateId);
  return row ? { ...toTemplate(row), folderId: row.folder_id } : null;
}

export async function createTemplate(
  db: Db,
  input: TemplateFields & { serviceId: string; type: TemplateType; folderId: string | null; userId: string },
): Promise<string> {
  const id = randomUUID();
  await db.transaction().execute(async (trx) => {
    if (input.folderId && !(await folderOf(trx, input.serviceId, input.folderId)))
      throw new TemplateError('folder-not-found');
    const now = new Date();
    await writeTemplateVersion(trx, {
      id,
      serviceId: input.serviceId,
      version: 1,
      name: input.name,
      type: input.type,
      subject: input.subject,
      content: input.content,
      category: input.category,
      createdById: input.userId,
      createdAt: now,
      savedAt: now,
      folderId: input.folderId,
    });
  });
  return id;
}

/**
 * Saves an edit. A change to the name, subject, content or category is a new version; a move to another folder
 * alone is not. Returns the template's version after the save.
 */
export async function updateTemplate(
  db: Db,
  serviceId: string,
  templateId: string,
  fields: TemplateFields & { folderId: string | null },
  userId: string,
): Promise<number> {
  return db.transaction().execute(async (trx) => {
    // Locked, so that two people saving at once make versions n+1 and n+2, not two n+1.
    const current = await lockVisibleTemplate(trx, serviceId, templateId);
    if (!current) throw new TemplateError('not-found');
    if (fields.folderId && !(await folderOf(trx, serviceId, fields.folderId)))
      throw new TemplateError('folder-not-found');
    if (fields.folderId !== current.folder_id) {
      await setTemplateFolder(trx, serviceId, templateId, fields.folderId);
    }
    const subject = current.type === 'email' ? fields.subject : null;
    const changed =
      current.name !== fields.name ||
      current.subject !== subject ||
      current.content !== fields.content ||
      current.category !== fields.category;
    if (!changed) return current.version;
    const version = current.version + 1;
    await writeTemplateVersion(trx, {
      id: templateId,
      serviceId,
      version,
      name: fields.name,
      type: current.type,
      subject,
      content: fields.content,
      category: fields.category,
      createdById: userId,
      createdAt: current.created_at,
      savedAt: new Date(),
    });
    return version;
  });
}

/** Archived templates leave the lists and can no longer be sent; their versions and messages stay. */
export async function archiveTemplate(db: Db, serviceId: string, templateId: string): Promise<void> {
  if (!(await archiveVisibleTemplate(db, serviceId, templateId))) throw new TemplateError('not-found');
}

/** Every version of a template, newest first, with who saved it. */
export async function templateVersions(db: Db, serviceId: string, templateId: string): Promise<TemplateVersionView[]> {
  if (!isUuid(templateId)) return [];
  const rows = await findTemplateHistory(db, serviceId, templateId);
  return rows.map((r) => ({
    version: r.version,
    name: r.name,
    type: r.type,
    subject: r.subject,
    content: r.content,
    category: r.category,
    savedAt: r.updated_at ?? r.created_at,
    savedBy: r.saved_by,
  }));
}

export async function templateVersion(
  db: Db,
  serviceId: string,
  templateId: string,
  version: number,
): Promise<TemplateVersionView | null> {
  return (await templateVersions(db, serviceId, templateId)).find((v) => v.version === version) ?? null;
}

/** Names and types of some of a service's templates (archived ones too), for lists of figures by template. */
export async function templateNames(
  db: Db,
  serviceId: string,
  ids: readonly string[],
): Promise<Array<{ id: string; name: string; type: TemplateType }>> {
  if (ids.length === 0) return [];
  return findTemplateNames(db, serviceId, ids);
}
