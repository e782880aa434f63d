/** Requests to go live (go_live_requests) with their service and requester, and what the go-live checklist counts. */
import type { Insertable } from 'kysely';
import type { Db } from '../../platform/database/connection.ts';
import type { GoLiveRequestsTable } from '../schema.ts';

function requestQuery(db: Db) {
  return db
    .selectFrom('go_live_requests as r')
    .innerJoin('services as s', 's.id', 'r.service_id')
    .leftJoin('users as u', 'u.id', 'r.requested_by_id')
    .select([
      'r.id',
      'r.service_id',
      's.name as service_name',
      'u.id as user_id',
      'u.name as user_name',
      'u.email_address as user_email',
      'u.language as user_language',
      'r.main_use',
      'r.expected_daily_email',
      'r.expected_daily_sms',
      'r.state',
      'r.decline_reason',
      'r.created_at',
      'r.decided_at',
    ]);
}

export type GoLiveRequestRow = Awaited<ReturnType<ReturnType<typeof requestQuery>['execute']>>[number];

/** The service's latest request, whatever its state. */
export async function findLatestRequest(db: Db, serviceId: string): Promise<GoLiveRequestRow | undefined> {
  return requestQuery(db)
    .where('r.service_id', '=', serviceId)
    .orderBy('r.created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** The requests waiting for a decision, oldest first. */
export async function listPendingRequests(db: Db): Promise<GoLiveRequestRow[]> {
  return requestQuery(db).where('r.state', '=', 'pending').orderBy('r.created_at').execute();
}

export async function findRequest(db: Db, requestId: string): Promise<GoLiveRequestRow | undefined> {
  return requestQuery(db).where('r.id', '=', requestId).executeTakeFirst();
}

export async function insertRequest(db: Db, values: Insertable<GoLiveRequestsTable>): Promise<void> {
  await db.insertInto('go_live_requests').values(values).execute();
}

/** Decides a request still pending; its service's id, or undefined when it was not pending. */
export async function decideRequest(
  db: Db,
  requestId: string,
  decision: { approve: boolean; actorId: string; reason: string },
): Promise<string | undefined> {
  const row = await db
    .updateTable('go_live_requests')
    .set({
      state: decision.approve ? 'approved' : 'declined',
      decided_by_id: decision.actorId,
      decided_at: new Date(),
      decline_reason: decision.approve ? null : decision.reason,
    })
    .where('id', '=', requestId)
    .where('state', '=', 'pending')
    .returning('service_id')
    .executeTakeFirst();
  return row?.service_id;
}

/** How many templates (not archived) the service has of each type. */
export async function countTemplatesByType(db: Db, serviceId: string): Promise<{ type: string; n: number }[]> {
  return db
    .selectFrom('templates')
    .select(['type', (eb) => eb.fn.countAll<number>().as('n')])
    .where('service_id', '=', serviceId)
    .where('archived', '=', false)
    .groupBy('type')
    .execute();
}
