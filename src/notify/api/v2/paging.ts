/** Paging of the v2 lists: 250 rows a page, newest first, continued with `older_than=<id of the last row>`. */
import { sql, type RawBuilder } from 'kysely';

export const PAGE_SIZE = 250;

/**
 * Rows older than the row `id` of the same service. Ordering by (created_at, id) rather than created_at alone
 * means rows created in the same instant are neither skipped nor repeated between pages; an unknown id (or one of
 * another service) compares with NULL and so gives an empty page, as Notify does.
 */
export function olderThan(
  table: 'notifications' | 'received_texts',
  alias: string,
  serviceId: string,
  id: string,
): RawBuilder<boolean> {
  return sql<boolean>`(${sql.ref(`${alias}.created_at`)}, ${sql.ref(`${alias}.id`)}) < (
    SELECT o.created_at, o.id FROM ${sql.table(table)} o WHERE o.id = ${id} AND o.service_id = ${serviceId})`;
}
