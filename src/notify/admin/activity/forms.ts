import type { TemplateType } from '../../vocabulary.ts';
import { STATUS_GROUP_NAMES, type ActivityFilter } from '../../reporting/activity.ts';
export const SEARCH_MAX = 320;

export interface ActivityQuery {
  channel?: string;
  status?: string;
  search?: string;
  page?: string;
}

/** The query as a filter; anything unknown is ignored rather than refused, so a pasted URL never fails. */
export function readFilter(serviceId: string, query: ActivityQuery): ActivityFilter {
  const channel = query.channel === 'email' || query.channel === 'sms' ? (query.channel as TemplateType) : undefined;
  const statusGroup = STATUS_GROUP_NAMES.find((g) => g === query.status);
  const search = typeof query.search === 'string' ? query.search.trim().slice(0, SEARCH_MAX) : '';
  return { serviceId, channel, statusGroup, search: search || undefined };
}

export function filterQuery(filter: ActivityFilter, page?: number): string {
  const params = new URLSearchParams();
  if (filter.search) params.set('search', filter.search);
  if (filter.channel) params.set('channel', filter.channel);
  if (filter.statusGroup) params.set('status', filter.statusGroup);
  if (page && page > 1) params.set('page', String(page));
  const text = params.toString();
  return text ? `?${text}` : '';
}
