/**
 * Pages of one service live under `/services/:serviceId/…`. `requireService(permission)` is the guard every such
 * route puts in front of itself: a signed-in member of the service with that permission (platform admins have
 * every permission in every service). Anyone else learns nothing: a service they are not in answers 404, a
 * permission they lack 403. The guard leaves the service on `request.service`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../database/connection.ts';
import { ALL_PERMISSIONS, type Permission } from '../services/permissions.ts';
import { canonicalUuid } from '../ids.ts';
import { requireUser } from './guards.ts';
import { serviceMembership } from '../services/services.ts';
import { forbiddenPage, notFoundPage } from './layout.ts';

export interface ServiceContext {
  id: string;
  name: string;
  /** Trial mode: sends only to the team and guest list, 50 a day. */
  restricted: boolean;
  /** False once a platform admin suspended the service. */
  active: boolean;
  /** What the signed-in person may do here. */
  permissions: ReadonlySet<Permission>;
}

declare module 'fastify' {
  interface FastifyRequest {
    service: ServiceContext;
  }
}

export function requireService(db: Db, permission: Permission | null = null) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const account = request.ui.account;
    if (!account) return requireUser(request, reply);
    const raw = (request.params as { serviceId?: string }).serviceId ?? '';
    const serviceId = canonicalUuid(raw);
    const row = serviceId ? await serviceMembership(db, serviceId, account.id) : null;
    if (!row || (!row.member && !account.platformAdmin)) {
      return reply
        .code(404)
        .type('text/html; charset=utf-8')
        .send(String(notFoundPage(request.ui)));
    }
    const permissions = new Set<Permission>(account.platformAdmin ? ALL_PERMISSIONS : (row.permissions ?? []));
    if (permission && !permissions.has(permission)) {
      return reply
        .code(403)
        .type('text/html; charset=utf-8')
        .send(String(forbiddenPage(request.ui)));
    }
    request.service = { id: row.id, name: row.name, restricted: row.restricted, active: row.active, permissions };
  };
}
