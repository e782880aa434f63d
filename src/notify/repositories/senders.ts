/** A service's senders: reply-to addresses (email_reply_to) and text message senders (sms_senders). */
import { sql } from 'kysely';
import type { Db } from '../../platform/database/connection.ts';

export type SenderKind = 'reply-to' | 'sms-sender';

const TABLES = {
  'reply-to': { table: 'email_reply_to', column: 'email_address' },
  'sms-sender': { table: 'sms_senders', column: 'sms_sender' },
} as const;

export interface SenderRow {
  id: string;
  value: string;
  isDefault: boolean;
  archived: boolean;
}

export async function listSenders(db: Db, kind: SenderKind, serviceId: string): Promise<SenderRow[]> {
  const { table, column } = TABLES[kind];
  const rows = await db
    .selectFrom(table)
    .select(['id', `${column} as value`, 'is_default', 'archived'])
    .where('service_id', '=', serviceId)
    .execute();
  return rows.map((r) => ({ id: r.id, value: r.value as string, isDefault: r.is_default, archived: r.archived }));
}

export async function insertSender(
  db: Db,
  kind: SenderKind,
  serviceId: string,
  value: string,
  isDefault: boolean,
): Promise<string> {
  const { table, column } = TABLES[kind];
  const inserted = await db
    .insertInto(table)
    .values({ service_id: serviceId, [column]: value, is_default: isDefault } as never)
    .returning('id')
    .executeTakeFirstOrThrow();
  return inserted.id;
}

export async function setSenderState(
  db: Db,
  kind: SenderKind,
  id: string,
  state: { isDefault: boolean; archived: boolean },
): Promise<void> {
  await db
    .updateTable(TABLES[kind].table)
    .set({ is_default: state.isDefault, archived: state.archived })
    .where('id', '=', id)
    .execute();
}

/** The service's senders in use (not archived): the default first, then by age. */
export async function activeSenders(
  db: Db,
  kind: SenderKind,
  serviceId: string,
): Promise<{ id: string; value: string; isDefault: boolean }[]> {
  const { table, column } = TABLES[kind];
  const rows = await db
    .selectFrom(table)
    .select(['id', 'is_default', `${column} as value`])
    .where('service_id', '=', serviceId)
    .where('archived', '=', false)
    .orderBy('is_default', 'desc')
    .orderBy('created_at')
    .execute();
  return rows.map((r) => ({ id: r.id, value: r.value as string, isDefault: r.is_default }));
}

/** Whether the service has this sender in use. */
export async function activeSenderExists(db: Db, kind: SenderKind, serviceId: string, id: string): Promise<boolean> {
  const row = await db
    .selectFrom(TABLES[kind].table)
    .select('id')
    .where('service_id', '=', serviceId)
    .where('id', '=', id)
    .where('archived', '=', false)
    .executeTakeFirst();
  return row !== undefined;
}

/** None of the service's senders is the default any more. */
export async function clearDefaultSender(db: Db, kind: SenderKind, serviceId: string): Promise<void> {
  await db.updateTable(TABLES[kind].table).set({ is_default: false }).where('service_id', '=', serviceId).execute();
}

/** Makes one of the service's senders the default (clear the others first). */
export async function setDefaultSender(db: Db, kind: SenderKind, serviceId: string, id: string): Promise<void> {
  await db
    .updateTable(TABLES[kind].table)
    .set({ is_default: true })
    .where('service_id', '=', serviceId)
    .where('id', '=', id)
    .execute();
}

/** Brings back the service's sender with this value (archived or not); its id, or undefined when there is none. */
export async function reviveSender(
  db: Db,
  kind: SenderKind,
  serviceId: string,
  value: string,
  isDefault: boolean,
): Promise<string | undefined> {
  const { table, column } = TABLES[kind];
  const revived = await db
    .updateTable(table)
    .set({ archived: false, is_default: isDefault })
    .where('service_id', '=', serviceId)
    .where(sql.ref(column), '=', value)
    .returning('id')
    .executeTakeFirst();
  return revived?.id;
}

export async function archiveSender(db: Db, kind: SenderKind, serviceId: string, id: string): Promise<void> {
  await db
    .updateTable(TABLES[kind].table)
    .set({ archived: true, is_default: false })
    .where('service_id', '=', serviceId)
    .where('id', '=', id)
    .execute();
}
