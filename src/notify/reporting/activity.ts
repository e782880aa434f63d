/**
 * What a service sent, for people: its notifications newest first, filtered by channel and by the status a person
 * cares about (in transit, delivered, failed, cancelled), or found by recipient or reference; a page at a time for
 * the activity page, or every match in batches for its CSV download. Messages sent with a test key are left out,
 * as in GC Notify: they never reach anyone.
 */
import type { Db } from '../../platform/database/connection.ts';
import type { TemplateType } from '../vocabulary.ts';
import { normaliseRecipient, validatePhoneNumber, type CountryCode } from '../../platform/recipients.ts';
import { type ActivityCursor, type ActivityQuery, type ActivityRow, findActivity } from '../repositories/activity.ts';

export type { ActivityRow };

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

/** The filter as the repository reads it: statuses of the group, the search as stored recipients are. */
function activityQuery(filter: ActivityFilter, phoneRegion: string): ActivityQuery {
  const search = filter.search?.trim();
  return {
    serviceId: filter.serviceId,
    channel: filter.channel,
    statuses: filter.statusGroup ? STATUS_GROUPS[filter.statusGroup] : undefined,
    search: search ? { recipient: normaliseSearch(search, phoneRegion), reference: search } : undefined,
  };
}

/** One page (1-based) of matches, newest first, and whether another page follows. */
export async function listActivity(
  db: Db,
  filter: ActivityFilter,
  opts: { page: number; pageSize: number; phoneRegion: string },
): Promise<{ rows: ActivityRow[]; hasNext: boolean }> {
  const { rows } = await findActivity(db, activityQuery(filter, opts.phoneRegion), {
    limit: opts.pageSize + 1,
    offset: (Math.max(1, opts.page) - 1) * opts.pageSize,
  });
  return { rows: rows.slice(0, opts.pageSize), hasNext: rows.length > opts.pageSize };
}

/** Every match, newest first, read `batchSize` rows at a time (after the last one seen), never all at once. */
export async function* eachActivity(
  db: Db,
  filter: ActivityFilter,
  opts: { phoneRegion: string; batchSize?: number },
): AsyncGenerator<ActivityRow> {
  const batchSize = opts.batchSize ?? 1000;
  const query = activityQuery(filter, opts.phoneRegion);
  let after: ActivityCursor | null = null;
  for (;;) {
    const batch: { rows: ActivityRow[]; last: ActivityCursor | null } = await findActivity(db, query, {
      limit: batchSize,
      after,
    });
    yield* batch.rows;
    if (batch.rows.length < batchSize) return;
    after = batch.last;
  }
}
