/** /v2/received-text-messages: text messages the public sent to the service's number, newest first. */
import type { FastifyInstance } from 'fastify';
import { formatDate } from './presenters.ts';
import { PAGE_SIZE } from './paging.ts';
import { listReceivedTexts } from '../../repositories/notification-lists.ts';
import { getReceivedTextsRequest } from './schemas.ts';
import type { V2Context } from './request.ts';
import { callerOf, queryArrays, urlRoot } from './request.ts';

export function receivedTextRoutes(app: FastifyInstance, ctx: V2Context) {
  const validate = ctx.compile<{ older_than?: string }>(getReceivedTextsRequest);

  app.get('/v2/received-text-messages', async (request) => {
    const caller = callerOf(request);
    const { older_than } = validate(queryArrays(request.query, []));
    const olderThanId = older_than ? ctx.uuid(older_than) : undefined;
    const rows = await listReceivedTexts(ctx.db, caller.service.id, olderThanId, PAGE_SIZE);
    const base = `${urlRoot(ctx)}v2/received-text-messages`;
    const links: { current: string; next?: string } = { current: base };
    if (rows.length > 0) links.next = `${base}?older_than=${rows.at(-1)!.id}`;
    return {
      received_text_messages: rows.map((r) => ({
        id: r.id,
        created_at: formatDate(r.created_at),
        service_id: r.service_id,
        notify_number: r.notify_number,
        user_number: r.user_number,
        content: r.content,
      })),
      links,
    };
  });
}
