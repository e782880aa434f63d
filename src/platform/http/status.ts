/** GET /_status: is Envoi up, can it reach its database, which version is it. For load balancers and operators. */
import type { FastifyInstance } from 'fastify';
import { type DbHandle, pingDatabase } from '../database/connection.ts';
import { RETRY_AFTER_SECONDS } from '../database/unavailable.ts';
import { withinMs } from '../time-limit.ts';

/** A load balancer's health check must get an answer even when the database does not give one. */
const PING_TIMEOUT_MS = 2000;

export async function statusRoutes(app: FastifyInstance, opts: { database: DbHandle; version: string }) {
  app.get('/_status', async (request, reply) => {
    const started = performance.now();
    try {
      await withinMs(pingDatabase(opts.database.db), PING_TIMEOUT_MS);
      return {
        status: 'ok',
        version: opts.version,
        db: { status: 'ok', kind: opts.database.kind, latency_ms: Math.round((performance.now() - started) * 10) / 10 },
      };
    } catch (err) {
      // The cause stays in the log: its text can name hosts, ports and users, and anyone may call this.
      request.log.debug({ err }, 'status: database unreachable');
      return reply
        .code(503)
        .header('retry-after', String(RETRY_AFTER_SECONDS))
        .send({ status: 'error', version: opts.version, db: { status: 'unreachable', kind: opts.database.kind } });
    }
  });
}
