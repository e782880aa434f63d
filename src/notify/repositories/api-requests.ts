/** The record of a service's recent API requests (api_requests), written in batches and trimmed per service. */
import type { Db } from '../../platform/database/connection.ts';

export interface NewApiRequest {
  service_id: string;
  api_key_id: string | null;
  method: string;
  path: string;
  status_code: number;
  created_at: Date;
}

/** Adds the rows, a thousand per statement to keep under PostgreSQL's limit of parameters per statement. */
export async function insertApiRequests(db: Db, rows: readonly NewApiRequest[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 1000)
    await db
      .insertInto('api_requests')
      .values(rows.slice(i, i + 1000))
      .execute();
}

/** Deletes the service's rows older than its newest `keep`. */
export async function trimApiRequests(db: Db, serviceId: string, keep: number): Promise<void> {
  const cutoff = await db
    .selectFrom('api_requests')
    .select('id')
    .where('service_id', '=', serviceId)
    .orderBy('id', 'desc')
    .offset(keep)
    .limit(1)
    .executeTakeFirst();
  if (cutoff)
    await db.deleteFrom('api_requests').where('service_id', '=', serviceId).where('id', '<=', cutoff.id).execute();
}

/** A service's last requests with the name of the key that made each, newest first. */
export async function listRecentApiRequests(
  db: Db,
  serviceId: string,
  opts: { limit: number; failuresOnly?: boolean },
) {
  let q = db
    .selectFrom('api_requests as r')
    .leftJoin('api_keys as k', (join) =>
      join.onRef('k.id', '=', 'r.api_key_id').onRef('k.service_id', '=', 'r.service_id'),
    )
    .select(['r.created_at', 'r.method', 'r.path', 'r.status_code', 'k.name'])
    .where('r.service_id', '=', serviceId)
    .orderBy('r.id', 'desc')
    .limit(opts.limit);
  if (opts.failuresOnly) q = q.where('r.status_code', '>=', 400);
  return q.execute();
}
