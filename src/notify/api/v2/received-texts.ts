/** /v2/received-text-messages: text messages the public sent to the service's number, newest first. */
import type { FastifyInstance } from 'fastify';
import { formatDate } from './presenters.ts';
import { olderThan, PAGE_SIZE } from './paging.ts';
import { getReceivedTextsRequest } from './schemas.ts';
import type { V2Context } from './request.ts';
import { callerOf, queryArrays, urlRoot } from './request.ts';

export function receivedTextRoutes(app: FastifyInstance, ctx: V2Context) {
  const validate = ctx.compile<{ older_than?: string }>(getReceivedTextsRequest);

  app.get('/v2/received-text-messages', async (request) => {
    const caller = callerOf(request);
    const { older_than } = validate(queryArrays(request.query, []));
    let q = ctx.db
      .selectFrom('received_texts as r')
      .select(['r.id', 'r.created_at', 'r.service_id', 'r.notify_number', 'r.user_number', 'r.content'])
      .where('r.service_id', '=', caller.service.id);
    if (older_than) q = q.where(olderThan('received_texts', 'r', caller.service.id, ctx.uuid(older_than)));
    const rows = await q.orderBy('r.created_at', 'desc').orderBy('r.id', 'desc').limit(PAGE_SIZE).execute();
    const base = `${urlRoot(request, ctx.publicUrl)}v2/received-text-messages`;
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
