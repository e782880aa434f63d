/** Reading the platform admin pages' URLs: a person's id, and the audit log's filters and page. */
import { isUuid } from '../../ids.ts';
import { AUDIT_EVENTS, type AuditEventName } from '../../audit.ts';

/** The id in lower case, or an id no one has when it is not a UUID. */
export function uuidOrNull(id: string): string {
  return isUuid(id) ? id.toLowerCase() : '00000000-0000-0000-0000-000000000000';
}

export interface AuditFilter {
  user: string;
  event: AuditEventName | '';
  page: number;
}

/** The audit log's filters as the query gives them: a person (at most 320 characters), an event, a page. */
export function readAuditQuery(query: { user?: string; event?: string; page?: string }): AuditFilter {
  return {
    user: (query.user ?? '').trim().slice(0, 320),
    event: AUDIT_EVENTS.find((e) => e === query.event) ?? '',
    page: Math.max(1, Math.min(10_000, Number.parseInt(query.page ?? '1', 10) || 1)),
  };
}
