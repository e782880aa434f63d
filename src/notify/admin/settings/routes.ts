/**
 * A service's settings (`/services/:serviceId/settings`, manage_service): name, email sender, reply-to addresses,
 * text message senders, data retention, the daily limits (shown; platform admins change them), callbacks and their
 * signing secret, email branding with an uploaded logo, and the request to go live.
 */
import type { FastifyInstance } from 'fastify';
import type { NotifyAdminDeps } from '../admin-deps.ts';
import { acceptMultipart } from '../../../platform/ui/multipart.ts';
import { summaryRoutes } from './summary.ts';
import { nameAndSenderRoutes } from './name-and-sender.ts';
import { senderListRoutes } from './sender-lists.ts';
import { retentionRoutes } from './retention.ts';
import { callbackRoutes } from './callbacks.ts';
import { brandingRoutes } from './branding.ts';
import { goLiveRoutes } from './go-live.ts';

export async function settingsRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  // The branding form uploads a logo; the bound is well above the logo's own limit, so that a file a little too big
  // gets the form's clear message rather than a refused request.
  acceptMultipart(app, 4 * 1024 * 1024);
  await summaryRoutes(app, deps);
  await nameAndSenderRoutes(app, deps);
  await senderListRoutes(app, deps);
  await retentionRoutes(app, deps);
  await callbackRoutes(app, deps);
  await brandingRoutes(app, deps);
  await goLiveRoutes(app, deps);
}
