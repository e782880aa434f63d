/** A service's senders: reply-to addresses (email_reply_to) and text message senders (sms_senders). */
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
