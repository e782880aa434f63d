/** /v2/notifications: send an email or a text message, read one notification, list them. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { checkPersonalisationSize } from './bounds.ts';
import { badRequest, notFound } from './errors.ts';
import { presentNotification } from './presenters.ts';
import { PAGE_SIZE } from './paging.ts';
import {
  getNotificationRequest,
  getNotificationsRequest,
  NOTIFICATION_STATUSES,
  postEmailRequest,
  postSmsRequest,
} from './schemas.ts';
import {
  type AcceptedNotification,
  acceptNotification,
  checkDailyLimitBeforeParsing,
  type SendRequest,
} from '../../sending/send-rules.ts';
import { earlierAnswer, idempotencyKeyOf, isKeyTaken, requestHash } from './idempotency.ts';
import type { V2Context } from './request.ts';
import { callerOf, parseJsonBody, queryArrays, urlRoot } from './request.ts';
import type { TemplateType } from '../../vocabulary.ts';
import { findApiNotification, listApiNotifications } from '../../repositories/notification-lists.ts';

const FAILURES = [
  'technical-failure',
  'temporary-failure',
  'permanent-failure',
  'failed',
  'validation-failed',
  'virus-scan-failed',
];
const STATUS_ALIASES: Record<string, string[]> = {
  failed: FAILURES,
  accepted: ['created', 'sending'],
  received: ['delivered'],
};

interface EmailBody {
  email_address: string;
  template_id: string;
  personalisation?: Record<string, unknown>;
  reference?: string;
  scheduled_for?: string | null;
  email_reply_to_id?: string;
  one_click_unsubscribe_url?: string;
  sanitise_content_for?: string[] | null;
}

interface SmsBody {
  phone_number: string;
  template_id: string;
  personalisation?: Record<string, unknown>;
  reference?: string;
  scheduled_for?: string | null;
  sms_sender_id?: string;
}

export function notificationRoutes(app: FastifyInstance, ctx: V2Context) {
  const v: Validators = {
    email: ctx.compile<EmailBody>(postEmailRequest),
    sms: ctx.compile<SmsBody>(postSmsRequest),
    list: ctx.compile<Record<string, unknown>>(getNotificationsRequest),
    get: ctx.compile<{ notification_id: string }>(getNotificationRequest),
  };

  app.post('/v2/notifications/email', async (request, reply) =>
    reply.code(201).send(await send(ctx, v, request, 'email')),
  );
  app.post('/v2/notifications/sms', async (request, reply) => reply.code(201).send(await send(ctx, v, request, 'sms')));
  app.post('/v2/notifications/letter', async () => {
    throw badRequest('Service is not allowed to send letters');
  });
  app.get('/v2/notifications/:id/pdf', async (request) => {
    await findNotification(ctx, v, request, { notification_id: (request.params as { id: string }).id });
    throw badRequest('Notification is not a letter');
  });

  app.get('/v2/notifications/:notification_id', async (request) =>
    presentNotification(await findNotification(ctx, v, request, request.params), urlRoot(ctx), ctx.smsRate),
  );

  app.get('/v2/notifications', (request) => listNotifications(ctx, v, request));
}

/** The request schemas of these routes, compiled once. */
interface Validators {
  email: (json: unknown) => EmailBody;
  sms: (json: unknown) => SmsBody;
  list: (json: unknown) => Record<string, unknown>;
  get: (json: unknown) => { notification_id: string };
}

/** Either channel's request, validated, read into one SendRequest (one object literal: this runs on every send). */
function readSendRequest(ctx: V2Context, v: Validators, type: TemplateType, json: unknown): SendRequest {
  const email = type === 'email' ? v.email(json) : null;
  const body: EmailBody | SmsBody = email ?? v.sms(json);
  checkPersonalisationSize(body.personalisation);
  const senderId = email ? email.email_reply_to_id : (body as SmsBody).sms_sender_id;
  return {
    type,
    recipient: email ? email.email_address : (body as SmsBody).phone_number,
    templateId: ctx.uuid(body.template_id),
    personalisation: body.personalisation ?? {},
    reference: body.reference ?? null,
    scheduledFor: body.scheduled_for ? ctx.parseDate(body.scheduled_for) : null,
    replyToId: senderId ? ctx.uuid(senderId) : null,
    oneClickUnsubscribeUrl: email?.one_click_unsubscribe_url ?? null,
    sanitiseContentFor: email?.sanitise_content_for ?? null,
  };
}

/**
 * Accepts an email or a text message, answering with its id, URI and content as Notify does; with an
 * Idempotency-Key, a retry of a send already accepted answers as the first time did (idempotency.ts).
 */
async function send(ctx: V2Context, v: Validators, request: FastifyRequest, type: TemplateType) {
  const caller = callerOf(request);
  const key = idempotencyKeyOf(request);
  if (key === null) return accept(ctx, v, request, type, null);
  const json = parseJsonBody(request);
  const hash = requestHash(request.url, json);
  // Before the limits: a retry of an accepted send is answered even once the day's limit is reached.
  const earlier = await earlierAnswer(ctx.db, caller.service.id, key, hash);
  if (earlier !== null) return earlier;
  try {
    return await accept(ctx, v, request, type, { key, hash, json });
  } catch (err) {
    if (!isKeyTaken(err)) throw err;
    // The same key sent at the same time, and committed first: this is its retry.
    return (await earlierAnswer(ctx.db, caller.service.id, key, hash)) ?? Promise.reject(err);
  }
}

async function accept(
  ctx: V2Context,
  v: Validators,
  request: FastifyRequest,
  type: TemplateType,
  /** A keyed send, whose body was read (for its hash) before the limits. */
  idempotency: { key: string; hash: string; json: unknown } | null,
) {
  const caller = callerOf(request);
  // Limits come before the body is read, as in Notify: a throttled client learns it whatever it sent.
  ctx.rateLimiter.take(caller.service.id, caller.keyType, caller.service.rateLimit);
  await checkDailyLimitBeforeParsing(ctx.send, caller, type);
  const root = urlRoot(ctx);
  const respond = (accepted: AcceptedNotification) => sendResponse(root, caller.service.id, type, accepted, ctx);
  const accepted = await acceptNotification(
    ctx.send,
    caller,
    readSendRequest(ctx, v, type, idempotency ? idempotency.json : parseJsonBody(request)),
    idempotency && { key: idempotency.key, requestHash: idempotency.hash, respond },
  );
  return respond(accepted);
}

/** The answer to an accepted send. */
function sendResponse(
  root: string,
  serviceId: string,
  type: TemplateType,
  accepted: AcceptedNotification,
  ctx: V2Context,
) {
  const response = {
    id: accepted.id,
    reference: accepted.reference,
    uri: `${root}v2/notifications/${accepted.id}`,
    template: {
      id: accepted.template.id,
      version: accepted.template.version,
      uri: `${root}services/${serviceId}/templates/${accepted.template.id}`,
    },
    scheduled_for: ctx.formatDate(accepted.scheduledFor),
  };
  if (type === 'sms') return { ...response, content: { from_number: accepted.fromNumber, body: accepted.body } };
  return {
    ...response,
    content: {
      from_email: accepted.fromEmail,
      body: accepted.body,
      subject: accepted.subject,
      one_click_unsubscribe_url: accepted.oneClickUnsubscribeUrl,
    },
    sanitised_content: accepted.sanitised ?? {},
  };
}

/** The caller's service's notification of the URL, or a 404. */
async function findNotification(ctx: V2Context, v: Validators, request: FastifyRequest, params: unknown) {
  const caller = callerOf(request);
  const { notification_id } = v.get(params);
  const row = await findApiNotification(ctx.db, caller.service.id, ctx.uuid(notification_id));
  if (!row) throw notFound();
  return row;
}

/** A page of the caller's notifications, newest first, filtered as asked, with the link to the next page. */
async function listNotifications(ctx: V2Context, v: Validators, request: FastifyRequest) {
  const caller = callerOf(request);
  const raw = queryArrays(request.query, ['template_type', 'status']);
  const query = v.list(raw) as {
    template_type?: string[];
    status?: string[];
    reference?: string;
    older_than?: string;
    include_jobs?: string;
  };
  let statuses: string[] | undefined;
  if (query.status?.length) {
    const wanted = new Set(query.status.flatMap((s) => STATUS_ALIASES[s] ?? [s]));
    if (!NOTIFICATION_STATUSES.every((s) => wanted.has(s))) statuses = [...wanted];
  }
  const rows = await listApiNotifications(
    ctx.db,
    {
      serviceId: caller.service.id,
      keyType: caller.keyType,
      includeJobs: Boolean(query.include_jobs),
      types: query.template_type?.length ? (query.template_type as TemplateType[]) : undefined,
      statuses,
      reference: query.reference,
      olderThan: query.older_than ? ctx.uuid(query.older_than) : undefined,
    },
    PAGE_SIZE,
  );
  const root = urlRoot(ctx);
  const current = `${root}v2/notifications${queryString(raw)}`;
  const links: { current: string; next?: string } = { current };
  if (rows.length > 0) {
    links.next = `${root}v2/notifications${queryString({ ...raw, older_than: rows.at(-1)!.id })}`;
  }
  return { notifications: rows.map((r) => presentNotification(r, root, ctx.smsRate)), links };
}

function queryString(params: Record<string, unknown>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const v of ([] as unknown[]).concat(value)) search.append(key, String(v));
  }
  const s = search.toString();
  return s ? `?${s}` : '';
}
