/** GET /_status: is Envoi up, can it reach its database, which version is it. For load balancers and operators. */
import type { FastifyInstance } from 'fastify';
import { type DbHandle, pingDatabase } from '../database/connection.ts';

export async function statusRoutes(app: FastifyInstance, opts: { database: DbHandle; version: string }) {
  app.get('/_status', async (_request, reply) => {
    const started = performance.now();
    try {
      await pingDatabase(opts.database.db);
      return {
        status: 'ok',
        version: opts.version,
        db: { status: 'ok', kind: opts.database.kind, latency_ms: Math.round((performance.now() - started) * 10) / 10 },
      };
    } catch (err) {
      return reply.code(503).send({
        status: 'error',
        version: opts.version,
        db: { status: 'unreachable', kind: opts.database.kind, message: (err as Error).message },
      });
    }
  });
}
