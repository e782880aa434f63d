/**
 * /v2/suppressions: the addresses and numbers the service no longer sends to (hard bounces, complaints,
 * opt-outs, added by hand), and taking one off the list.
 *
 *   GET    /v2/suppressions?channel=email|sms&older_than=<channel>:<recipient>   newest first, 250 a page
 *   DELETE /v2/suppressions/{channel}/{recipient}                               200 with the entry removed, or 404
 */
import type { FastifyInstance } from 'fastify';
import type { TemplateType } from '../../vocabulary.ts';
import { listSuppressions } from '../../delivery/suppressions.ts';
import { clearSuppression, type Suppression } from '../../repositories/suppressions.ts';
import { normaliseEmail, normaliseRecipient, type CountryCode } from '../../../platform/recipients.ts';
import { badRequest, notFound } from './errors.ts';
import { formatDate } from './presenters.ts';
import { PAGE_SIZE } from './paging.ts';
import type { V2Context } from './request.ts';
import { callerOf, queryArrays, urlRoot } from './request.ts';

const getSuppressionsRequest = {
  type: 'object',
  additionalProperties: false,
  properties: {
    channel: { enum: ['email', 'sms'] },
    older_than: { type: 'string', minLength: 3, maxLength: 400 },
  },
} as const;

function present(s: Suppression) {
  return {
    channel: s.channel,
    recipient: s.recipient,
    reason: s.reason,
    notification_id: s.notificationId,
    created_at: formatDate(s.createdAt),
  };
}

function channelOf(value: string): TemplateType {
  if (value !== 'email' && value !== 'sms') throw badRequest('channel must be email or sms');
  return value;
}

// The URL's parts are text like any other: a NUL is refused before it reaches SQL.
const deleteSuppressionRequest = {
  type: 'object',
  properties: { channel: { type: 'string' }, recipient: { type: 'string' } },
} as const;

export function suppressionRoutes(app: FastifyInstance, ctx: V2Context) {
  const validate = ctx.compile<{ channel?: TemplateType; older_than?: string }>(getSuppressionsRequest);
  const validateDelete = ctx.compile<{ channel: string; recipient: string }>(deleteSuppressionRequest);

  /** The stored form of what a client typed; a recipient that does not parse is looked up as it came. */
  function normalised(channel: TemplateType, raw: string): string {
    try {
      return normaliseRecipient(channel, raw, { defaultRegion: ctx.phoneRegion as CountryCode });
    } catch {
      return channel === 'email' ? normaliseEmail(raw) : raw.trim();
    }
  }

  app.get('/v2/suppressions', async (request) => {
    const caller = callerOf(request);
    const query = validate(queryArrays(request.query, []));
    let after: { channel: TemplateType; recipient: string } | undefined;
    if (query.older_than) {
      const colon = query.older_than.indexOf(':');
      if (colon < 0) throw badRequest('older_than must be <channel>:<recipient>, as in links.next');
      after = { channel: channelOf(query.older_than.slice(0, colon)), recipient: query.older_than.slice(colon + 1) };
    }
    const rows = await listSuppressions(ctx.db, caller.service.id, { channel: query.channel, after, limit: PAGE_SIZE });
    const base = `${urlRoot(ctx)}v2/suppressions`;
    const current = query.channel ? `${base}?channel=${query.channel}` : base;
    const links: { current: string; next?: string } = { current };
    const last = rows.at(-1);
    if (last && rows.length === PAGE_SIZE) {
      const cursor = encodeURIComponent(`${last.channel}:${last.recipient}`);
      links.next = `${current}${query.channel ? '&' : '?'}older_than=${cursor}`;
    }
    return { suppressions: rows.map(present), links };
  });

  app.delete<{ Params: { channel: string; recipient: string } }>(
    '/v2/suppressions/:channel/:recipient',
    async (request) => {
      const caller = callerOf(request);
      const params = validateDelete(request.params);
      const channel = channelOf(params.channel);
      const removed = await clearSuppression(ctx.db, {
        serviceId: caller.service.id,
        channel,
        recipient: normalised(channel, params.recipient),
      });
      if (!removed) throw notFound();
      return { suppression: present(removed) };
    },
  );
}
