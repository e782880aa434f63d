/**
 * Services as their teams and platform admins manage them: creating one (in trial mode, its creator a member with
 * every permission), renaming it, who belongs to it, and suspending or restoring it. A product keeps its own
 * settings of a service (Notify's: notify/settings) and passes its columns of a new service's row to
 * createService. No HTTP here: the UI calls these, and turns ServiceError codes into words. Callers tell the
 * products' caches (ServiceCache) after a change.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../database/connection.ts';
import type { Permission } from './permissions.ts';
import { recordAudit } from '../audit.ts';
import { ALL_PERMISSIONS } from './permissions.ts';
import {
  findServiceWithMember,
  insertService,
  type ProductColumns,
  serviceNameTaken,
  servicesOfMember,
  updateService,
  updateServiceActive,
} from '../repositories/services.ts';
import { insertMember } from '../repositories/service-members.ts';
import { CodedError } from '../coded-error.ts';

export const NAME_MAX = 255;

export type ServiceErrorCode = 'name-missing' | 'name-too-long' | 'name-taken';

export class ServiceError extends CodedError<ServiceErrorCode> {}

export interface ServiceSummary {
  id: string;
  name: string;
  restricted: boolean;
  active: boolean;
}

export function cleanServiceName(raw: string): string {
  const name = raw.trim().replace(/\s+/g, ' ');
  if (!name) throw new ServiceError('name-missing');
  if (name.length > NAME_MAX) throw new ServiceError('name-too-long');
  return name;
}

/** Refuses a name another service (not `exceptId`) has, whatever its case. */
export async function checkNameFree(db: Db, name: string, exceptId: string | null = null): Promise<void> {
  if (await serviceNameTaken(db, name, exceptId)) throw new ServiceError('name-taken');
}

/** A new service in trial mode, with the product's columns; its creator joins with every permission. */
export async function createService(
  db: Db,
  input: { name: string; creatorId: string; ip: string | null; columns: ProductColumns },
): Promise<string> {
  const name = cleanServiceName(input.name);
  await checkNameFree(db, name);
  const id = randomUUID();
  try {
    await db.transaction().execute(async (trx) => {
      await insertService(trx, {
        id,
        name,
        ...input.columns,
        restricted: true,
        active: true,
        created_by_id: input.creatorId,
      });
      await insertMember(trx, id, input.creatorId, [...ALL_PERMISSIONS]);
      await recordAudit(trx, {
        event: 'service-created',
        actorId: input.creatorId,
        userId: input.creatorId,
        ip: input.ip,
        details: { serviceId: id, serviceName: name },
      });
    });
  } catch (err) {
    // Two people creating the same name at once: the unique index decides.
    await checkNameFree(db, name);
    throw err;
  }
  return id;
}

/** The services a person is a member of, by name. */
export async function memberServices(db: Db, userId: string): Promise<ServiceSummary[]> {
  return servicesOfMember(db, userId);
}

/** A service and, when the account is a member, its permissions there: what a service's pages check first. */
export async function serviceMembership(
  db: Db,
  serviceId: string,
  userId: string,
): Promise<(ServiceSummary & { member: boolean; permissions: Permission[] | null }) | null> {
  const row = await findServiceWithMember(db, serviceId, userId);
  if (!row) return null;
  const { user_id, ...rest } = row;
  return { ...rest, member: user_id !== null };
}

export async function renameService(db: Db, serviceId: string, rawName: string): Promise<void> {
  const name = cleanServiceName(rawName);
  await checkNameFree(db, name, serviceId);
  await updateService(db, serviceId, { name });
}

/** A platform admin suspends a service (it can no longer send) or restores it; false when it already was so. */
export async function setServiceActive(
  db: Db,
  input: { serviceId: string; active: boolean; actorId: string; ip: string | null },
): Promise<boolean> {
  const name = await updateServiceActive(db, input.serviceId, input.active);
  if (name === undefined) return false;
  await recordAudit(db, {
    event: input.active ? 'service-restored' : 'service-suspended',
    actorId: input.actorId,
    userId: null,
    ip: input.ip,
    details: { serviceId: input.serviceId, serviceName: name },
  });
  return true;
}
