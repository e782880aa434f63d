/** What every team route shares: its guards, its paths, who is acting, and the notices it shows after a change. */
import type { FastifyRequest } from 'fastify';
import type { AdminDeps } from '../../ui/admin-deps.ts';
import { requireService, type ServiceContext } from '../../ui/service-context.ts';
import { servicePath } from '../../ui/service-layout.ts';

export type Form = Record<string, string | string[] | undefined>;

export const DONE = [
  'invited',
  'cancelled',
  'permissions',
  'removed',
  'guest-added',
  'guest-removed',
  'joined',
] as const;

/** A path under the service's team pages. */
export const teamPath = (service: ServiceContext, rest = '') => servicePath(service, `/team${rest}`);

export function teamScope(deps: AdminDeps) {
  const db = deps.services.database.db;
  const { directory } = deps.services;
  const anyMember = requireService(db);
  const manager = requireService(db, 'manage_service');
  const actor = (request: FastifyRequest) => ({ actorId: request.ui.account!.id, ip: request.ip });
  return { db, directory, anyMember, manager, actor };
}
