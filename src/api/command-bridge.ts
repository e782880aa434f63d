/**
 * POST /_internal/commands/:name: how `envoi bootstrap` and `envoi outbox` reach a server that holds the
 * embedded database. Only a caller that can read the token from the data folder (the same machine account)
 * gets in; the route exists only in embedded mode.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { runCommand, type CommandName } from '../commands.ts';
import { BootstrapError } from '../domain/bootstrap.ts';

export async function commandBridgeRoutes(
  app: FastifyInstance,
  opts: { token: () => string; run: (name: CommandName, input: never) => Promise<unknown> },
) {
  app.post('/_internal/commands/:name', async (request, reply) => {
    const given = Buffer.from(String(request.headers['x-envoi-command-token'] ?? ''));
    const expected = Buffer.from(opts.token());
    if (expected.length === 0 || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return reply.code(403).send({ error: 'forbidden' });
    }
    const { name } = request.params as { name: string };
    if (name !== 'bootstrap' && name !== 'outbox') return reply.code(404).send({ error: `unknown command ${name}` });
    try {
      return { result: await opts.run(name, request.body as never) };
    } catch (err) {
      if (err instanceof BootstrapError) return reply.code(400).send({ error: err.message });
      throw err;
    }
  });
}

export { runCommand };
