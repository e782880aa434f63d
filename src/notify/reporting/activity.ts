/**
 * What a service sent, for people: its notifications newest first, filtered by channel and by the status a person
 * cares about (in transit, delivered, failed, cancelled), or found by recipient or reference; a page at a time for
 * the activity page, or every match in batches for its CSV download. Messages sent with a test key are left out,
 * as in GC Notify: they never reach anyone.
 */
import { sql } from 'kysely';
import type { Db } from '../../platform/database/connection.ts';
import type { TemplateType } from '../vocabulary.ts';
import { normaliseRecipient, validatePhoneNumber, type CountryCode } from '../../platform/recipients.ts';

export type StatusGroup = 'in-transit' | 'delivered' | 'failed' | 'cancelled';

export const STATUS_GROUPS: Record<StatusGroup, readonly string[]> = {
  'in-transit': ['created', 'sending', 'pending'],
  delivered: ['sent', 'delivered'],
  failed: [
    'technical-failure',
    'temporary-failure',
    'permanent-failure',
    'failed',
    'validation-failed',
    'virus-scan-failed',
  ],
  cancelled: ['cancelled'],
};

export const STATUS_GROUP_NAMES = Object.keys(STATUS_GROUPS) as StatusGroup[];

export function statusGroupOf(status: string): StatusGroup {
  for (const group of STATUS_GROUP_NAMES) if (STATUS_GROUPS[group].includes(status)) return group;
  return 'in-transit';
}

export interface ActivityFilter {
  serviceId: string;
  channel?: TemplateType;
  statusGroup?: StatusGroup;
  /** A recipient (matched in its normalised form) or a reference (matched exactly). */
  search?: string;
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

/** A search box's text as the API would store the recipient: lower-cased email, E.164 phone; else as typed. */
export function normaliseSearch(text: string, phoneRegion: string): string {
  const trimmed = text.trim();
  try {
    if (trimmed.includes('@')) return normaliseRecipient('email', trimmed);
    return validatePhoneNumber(trimmed, { defaultRegion: phoneRegion as CountryCode }).e164;
  } catch {
    return trimmed.toLowerCase();
  }
}

function filtered(db: Db, filter: ActivityFilter, phoneRegion: string) {
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
    .where('n.service_id', '=', filter.serviceId)
    .where('n.key_type', '!=', 'test');
  if (filter.channel) q = q.where('n.notification_type', '=', filter.channel);
  if (filter.statusGroup) q = q.where('n.status', 'in', [...STATUS_GROUPS[filter.statusGroup]]);
  const search = filter.search?.trim();
  if (search) {
    const recipient = normaliseSearch(search, phoneRegion);
    q = q.where((eb) => eb.or([eb('n.normalised_to', '=', recipient), eb('n.client_reference', '=', search)]));
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

/** One page (1-based) of matches, newest first, and whether another page follows. */
export async function listActivity(
  db: Db,
  filter: ActivityFilter,
  opts: { page: number; pageSize: number; phoneRegion: string },
): Promise<{ rows: ActivityRow[]; hasNext: boolean }> {
  const rows = await filtered(db, filter, opts.phoneRegion)
    .limit(opts.pageSize + 1)
    .offset((Math.max(1, opts.page) - 1) * opts.pageSize)
    .execute();
  return { rows: rows.slice(0, opts.pageSize).map(toRow), hasNext: rows.length > opts.pageSize };
}

/** Every match, newest first, read `batchSize` rows at a time (after the last one seen), never all at once. */
export async function* eachActivity(
  db: Db,
  filter: ActivityFilter,
  opts: { phoneRegion: string; batchSize?: number },
): AsyncGenerator<ActivityRow> {
  const batchSize = opts.batchSize ?? 1000;
  let after: { cursor: string; id: string } | null = null;
  for (;;) {
    let q = filtered(db, filter, opts.phoneRegion);
    if (after) {
      const { cursor, id } = after;
      q = q.where((eb) =>
        eb.or([
          eb('n.created_at', '<', sql<Date>`${cursor}::timestamptz`),
          eb.and([eb('n.created_at', '=', sql<Date>`${cursor}::timestamptz`), eb('n.id', '<', id)]),
        ]),
      );
    }
    const rows = await q.limit(batchSize).execute();
    for (const r of rows) yield toRow(r);
    if (rows.length < batchSize) return;
    const last = rows[rows.length - 1]!;
    after = { cursor: last.cursor, id: last.id };
  }
}
