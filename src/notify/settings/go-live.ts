/**
 * Going live: the checklist a trial service must complete, its request (what it will send, and how much a day),
 * and a platform admin's decision. Approving takes the service out of trial mode and raises its daily limits.
 */
import type { Db } from '../../platform/database/connection.ts';
import { recordAudit } from '../../platform/audit.ts';
import { countManagers } from '../../platform/repositories/service-members.ts';
import {
  countTemplatesByType,
  decideRequest,
  findLatestRequest,
  findRequest,
  type GoLiveRequestRow,
  insertRequest,
  listPendingRequests,
} from '../repositories/go-live.ts';
import { markServiceLive } from '../repositories/service-settings.ts';
import { LIVE_DAILY_LIMITS, parseVolume } from './daily-limits.ts';
import { listSenders } from './senders.ts';
import { serviceSettings } from './service-settings.ts';
import { SettingsError } from './settings-error.ts';

const MAIN_USE_MAX = 2000;

export interface GoLiveChecklist {
  /** Members who can manage the service: at least two, so that it never depends on one person. */
  managers: number;
  hasManagers: boolean;
  templates: { email: number; sms: number };
  hasTemplates: boolean;
  /** A service with email templates needs a reply-to address. */
  needsReplyTo: boolean;
  hasReplyTo: boolean;
  ready: boolean;
}

export async function goLiveChecklist(db: Db, serviceId: string): Promise<GoLiveChecklist> {
  const [m, templates, replyTos] = await Promise.all([
    countManagers(db, serviceId),
    countTemplatesByType(db, serviceId),
    listSenders(db, 'email_reply_to', serviceId),
  ]);
  const count = (type: string) => Number(templates.find((t) => t.type === type)?.n ?? 0);
  const t = { email: count('email'), sms: count('sms') };
  const needsReplyTo = t.email > 0;
  const checklist = {
    managers: m,
    hasManagers: m >= 2,
    templates: t,
    hasTemplates: t.email + t.sms > 0,
    needsReplyTo,
    hasReplyTo: replyTos.length > 0,
  };
  return {
    ...checklist,
    ready: checklist.hasManagers && checklist.hasTemplates && (!needsReplyTo || checklist.hasReplyTo),
  };
}

export interface GoLiveRequest {
  id: string;
  serviceId: string;
  serviceName: string;
  requestedBy: { id: string; name: string; email: string; language: 'en' | 'fr' } | null;
  mainUse: string;
  expectedDailyEmail: number;
  expectedDailySms: number;
  state: 'pending' | 'approved' | 'declined';
  declineReason: string | null;
  createdAt: Date;
  decidedAt: Date | null;
}

function toRequest(r: GoLiveRequestRow): GoLiveRequest {
  return {
    id: r.id,
    serviceId: r.service_id,
    serviceName: r.service_name,
    requestedBy: r.user_id
      ? { id: r.user_id, name: r.user_name ?? '', email: r.user_email ?? '', language: r.user_language ?? 'en' }
      : null,
    mainUse: r.main_use,
    expectedDailyEmail: r.expected_daily_email,
    expectedDailySms: r.expected_daily_sms,
    state: r.state,
    declineReason: r.decline_reason,
    createdAt: r.created_at,
    decidedAt: r.decided_at,
  };
}

/** The service's latest request, whatever its state. */
export async function latestGoLiveRequest(db: Db, serviceId: string): Promise<GoLiveRequest | null> {
  const row = await findLatestRequest(db, serviceId);
  return row ? toRequest(row) : null;
}

export async function pendingGoLiveRequests(db: Db): Promise<GoLiveRequest[]> {
  return (await listPendingRequests(db)).map(toRequest);
}

async function goLiveRequest(db: Db, requestId: string): Promise<GoLiveRequest | null> {
  const row = await findRequest(db, requestId);
  return row ? toRequest(row) : null;
}

export async function requestGoLive(
  db: Db,
  input: {
    serviceId: string;
    userId: string;
    mainUse: string;
    expectedDailyEmail: string;
    expectedDailySms: string;
    ip: string | null;
  },
): Promise<GoLiveRequest> {
  const service = await serviceSettings(db, input.serviceId);
  if (!service) throw new SettingsError('not-found');
  if (!service.restricted) throw new SettingsError('already-live');
  const pending = await latestGoLiveRequest(db, input.serviceId);
  if (pending?.state === 'pending') throw new SettingsError('already-requested');
  if (!(await goLiveChecklist(db, input.serviceId)).ready) throw new SettingsError('not-ready');
  const mainUse = input.mainUse.trim();
  if (!mainUse) throw new SettingsError('main-use-missing');
  const email = parseVolume(input.expectedDailyEmail);
  const sms = parseVolume(input.expectedDailySms);
  if (email === null || sms === null) throw new SettingsError('volume-invalid');
  try {
    await insertRequest(db, {
      service_id: input.serviceId,
      requested_by_id: input.userId,
      main_use: mainUse.slice(0, MAIN_USE_MAX),
      expected_daily_email: email,
      expected_daily_sms: sms,
    });
  } catch (err) {
    // The partial unique index: someone else asked at the same moment.
    if ((await latestGoLiveRequest(db, input.serviceId))?.state === 'pending')
      throw new SettingsError('already-requested');
    throw err;
  }
  await recordAudit(db, {
    event: 'go-live-requested',
    actorId: input.userId,
    userId: input.userId,
    ip: input.ip,
    details: { serviceId: input.serviceId },
  });
  return (await latestGoLiveRequest(db, input.serviceId))!;
}

/**
 * A platform admin decides. Approving makes the service live (restricted off, limits raised to the live ones if
 * they were lower); declining keeps it in trial with the reason, which the requester is told.
 */
export async function decideGoLive(
  db: Db,
  input: { requestId: string; approve: boolean; reason: string; actorId: string; ip: string | null },
): Promise<GoLiveRequest | null> {
  const reason = input.reason.trim();
  if (!input.approve && !reason) throw new SettingsError('reason-missing');
  const decided = await db.transaction().execute(async (trx) => {
    const serviceId = await decideRequest(trx, input.requestId, {
      approve: input.approve,
      actorId: input.actorId,
      reason,
    });
    if (!serviceId) return null;
    if (input.approve) await markServiceLive(trx, serviceId, LIVE_DAILY_LIMITS);
    await recordAudit(trx, {
      event: input.approve ? 'go-live-approved' : 'go-live-declined',
      actorId: input.actorId,
      userId: null,
      ip: input.ip,
      details: { serviceId, ...(input.approve ? {} : { reason }) },
    });
    return serviceId;
  });
  return decided ? goLiveRequest(db, input.requestId) : null;
}
