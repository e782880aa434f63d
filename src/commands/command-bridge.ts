/**
 * POST /_internal/commands/:name: how `envoi bootstrap`, `envoi outbox` and `envoi send-bulk` reach a server that
 * holds the embedded database. Only a caller that can read the token from the data folder (the same machine
 * account) gets in; the routes exist only in embedded mode.
 *
 * send-bulk streams: the file is the request body as it is (never JSON-encoded, however big), its settings are
 * query parameters, and the answer is one JSON line per event (progress, then the outcome) as they happen.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CommandName, SendBulkEvent, SendBulkInput } from './commands.ts';
import { BootstrapError } from '../notify/provisioning/bootstrap-file.ts';

export async function commandBridgeRoutes(
  app: FastifyInstance,
  opts: {
    token: () => string;
    run: (name: CommandName, input: never) => Promise<unknown>;
    sendBulk: (
      input: SendBulkInput,
      source: Readable,
      onEvent: (event: SendBulkEvent) => void,
    ) => Promise<SendBulkEvent>;
  },
) {
  function authorised(request: FastifyRequest): boolean {
    const given = Buffer.from(String(request.headers['x-envoi-command-token'] ?? ''));
    const expected = Buffer.from(opts.token());
    return expected.length > 0 && given.length === expected.length && timingSafeEqual(given, expected);
  }

  // The file arrives as a stream, handed to the job unread (and so without a body size limit).
  app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));

  app.post('/_internal/commands/send-bulk', async (request, reply) => {
    if (!authorised(request)) return reply.code(403).send({ error: 'forbidden' });
    const q = request.query as Record<string, string | undefined>;
    const input: SendBulkInput = {
      serviceId: q.service ?? '',
      templateId: q.template ?? '',
      name: q.name ?? '',
      format: (q.format ?? 'csv') as SendBulkInput['format'],
      scheduledFor: q.schedule || null,
    };
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'application/x-ndjson' });
    const send = (event: SendBulkEvent | { type: 'error'; message: string }) =>
      reply.raw.write(`${JSON.stringify(event)}\n`);
    const file = request.body as Readable;
    let outcome: SendBulkEvent | { type: 'error'; message: string };
    try {
      outcome = await opts.sendBulk(input, file, send);
    } catch (err) {
      request.log.error({ err }, 'send-bulk failed');
      outcome = { type: 'error', message: (err as Error).message };
    }
    // A file refused before its end (unknown template, unreadable line) is read to its end all the same, so that
    // the client's upload completes and it reads the answer rather than a reset connection.
    if (!file.readableEnded) {
      file.resume();
      await new Promise((resolve) => file.once('close', resolve));
    }
    send(outcome);
    reply.raw.end();
  });

  app.post('/_internal/commands/:name', async (request, reply) => {
    if (!authorised(request)) return reply.code(403).send({ error: 'forbidden' });
    const { name } = request.params as { name: string };
    if (name !== 'bootstrap' && name !== 'outbox' && name !== 'rotate-secret-key')
      return reply.code(404).send({ error: `unknown command ${name}` });
    try {
      return { result: await opts.run(name, request.body as never) };
    } catch (err) {
      if (err instanceof BootstrapError) return reply.code(400).send({ error: err.message });
      throw err;
    }
  });
}
