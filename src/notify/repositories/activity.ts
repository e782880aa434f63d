/**
 * A service's notifications as people look through them (the activity page and its CSV download): newest first,
 * with their template's name, never those sent with a test key.
 */
import { sql } from 'kysely';
import type { Db } from '../../platform/database/connection.ts';
import type { TemplateType } from '../vocabulary.ts';

export interface ActivityQuery {
  serviceId: string;
  channel?: TemplateType;
  statuses?: readonly string[];
  /** Rows sent to this recipient (normalised as stored) or with this reference. */
  search?: { recipient: string; reference: string };
}

export interface ActivityRow {
  id: string;
  type: TemplateType;
  to: string;
  reference: string | null;
  status: string;
  templateId: string;
  templateName: string | null;
  createdAt: Date;
  sentAt: Date | null;
  /** When the last status came (delivered, failed…), for finished messages. */
  updatedAt: Date | null;
}

/** Where a batch ended: the next one starts after this row. */
export interface ActivityCursor {
  cursor: string;
  id: string;
}

function filtered(db: Db, query: ActivityQuery) {
  let q = db
    .selectFrom('notifications as n')
    .leftJoin('templates as t', (join) =>
      join.onRef('t.id', '=', 'n.template_id').onRef('t.service_id', '=', 'n.service_id'),
    )
    .select([
      'n.id',
      'n.notification_type',
      'n.to',
      'n.client_reference',
      'n.status',
      'n.template_id',
      't.name as template_name',
      'n.created_at',
      'n.sent_at',
      'n.updated_at',
      sql<string>`n.created_at::text`.as('cursor'),
    ])
    .where('n.service_id', '=', query.serviceId)
    .where('n.key_type', '!=', 'test');
  if (query.channel) q = q.where('n.notification_type', '=', query.channel);
  if (query.statuses) q = q.where('n.status', 'in', [...query.statuses]);
  const search = query.search;
  if (search) {
    q = q.where((eb) =>
      eb.or([eb('n.normalised_to', '=', search.recipient), eb('n.client_reference', '=', search.reference)]),
    );
  }
  return q.orderBy('n.created_at', 'desc').orderBy('n.id', 'desc');
}

type Selected = Awaited<ReturnType<ReturnType<typeof filtered>['execute']>>[number];

function toRow(r: Selected): ActivityRow {
  return {
    id: r.id,
    type: r.notification_type,
    to: r.to,
    reference: r.client_reference,
    status: r.status,
    templateId: r.template_id,
    templateName: r.template_name,
    createdAt: r.created_at,
    sentAt: r.sent_at,
    updatedAt: r.updated_at,
  };
}

/**
 * Up to `limit` matches, newest first: skipping `offset` of them, or after the row `after`. Resolves them and where
 * they end (null when none).
 */
export async function findActivity(
  db: Db,
  query: ActivityQuery,
  page: { limit: number; offset?: number; after?: ActivityCursor | null },
): Promise<{ rows: ActivityRow[]; last: ActivityCursor | null }> {
  let q = filtered(db, query);
  if (page.after) {
    const { cursor, id } = page.after;
    q = q.where((eb) =>
      eb.or([
        eb('n.created_at', '<', sql<Date>`${cursor}::timestamptz`),
        eb.and([eb('n.created_at', '=', sql<Date>`${cursor}::timestamptz`), eb('n.id', '<', id)]),
      ]),
    );
  }
  q = q.limit(page.limit);
  if (page.offset !== undefined) q = q.offset(page.offset);
  const rows = await q.execute();
  const last = rows.at(-1);
  return { rows: rows.map(toRow), last: last ? { cursor: last.cursor, id: last.id } : null };
}
