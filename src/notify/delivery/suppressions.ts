/**
 * Looking through a service's suppression list (repositories/suppressions.ts holds it): what a person types in the
 * search box is matched as typed, or as the recipient it names.
 */
import type { Db } from '../../platform/database/connection.ts';
import {
  listSuppressions as listSuppressionsPage,
  type Suppression,
  type SuppressionPage,
} from '../repositories/suppressions.ts';
import { normaliseSearch } from '../reporting/activity.ts';

/**
 * One page of a service's list, newest first (see the repository's listSuppressions for `after` and `offset`).
 * `search` keeps entries whose stored form contains what was typed, or equals it normalised as a recipient (so
 * `613-555-0123` finds `+16135550123`).
 */
export async function listSuppressions(
  db: Db,
  serviceId: string,
  opts: SuppressionPage & { search?: { text: string; phoneRegion: string } },
): Promise<Suppression[]> {
  const { search, ...rest } = opts;
  if (!search) return listSuppressionsPage(db, serviceId, rest);
  const normalised = normaliseSearch(search.text, search.phoneRegion);
  return listSuppressionsPage(db, serviceId, { ...rest, search: { text: search.text, normalised } });
}
