import type { TemplateType } from '../../vocabulary.ts';
import type { Suppression } from '../../repositories/suppressions.ts';
export const SEARCH_MAX = 320;

export interface ListQuery {
  search?: string;
  channel?: string;
  page?: string;
  notice?: string;
}

export interface Filter {
  search: string;
  channel: TemplateType | undefined;
}

export type EntryInput = { channel?: string; recipient?: string };

export const channelOf = (value: unknown): TemplateType | undefined =>
  value === 'email' || value === 'sms' ? value : undefined;

/** The query as a filter; anything unknown is ignored, so a pasted URL never fails. */
export function readFilter(query: ListQuery): Filter {
  const search = typeof query.search === 'string' ? query.search.trim().slice(0, SEARCH_MAX) : '';
  return { search, channel: channelOf(query.channel) };
}

export function filterQuery(filter: Filter, page?: number): string {
  const params = new URLSearchParams();
  if (filter.search) params.set('search', filter.search);
  if (filter.channel) params.set('channel', filter.channel);
  if (page && page > 1) params.set('page', String(page));
  const text = params.toString();
  return text ? `?${text}` : '';
}

export const entryQuery = (s: Pick<Suppression, 'channel' | 'recipient'>) =>
  `?${new URLSearchParams({ channel: s.channel, recipient: s.recipient })}`;
