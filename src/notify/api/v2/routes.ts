/**
 * The public v2 API as one Fastify plugin: authentication on every route it owns (never on unknown URLs, which
 * the app answers before auth), the recent-requests log, and the route files.
 */
import type { FastifyInstance } from 'fastify';
import { authenticate, serviceNamedBy } from './auth.ts';
import { V2_BODY_LIMIT } from './bounds.ts';
import { ApiError } from './errors.ts';
import { formatChecks } from './formats.ts';
import { canonicalUuid } from '../../../platform/ids.ts';
import { AUTH_MESSAGES } from './jwt.ts';
import { formatDate } from './presenters.ts';
import { parseIsoDate, type V2Context, type V2Options } from './request.ts';
import { createValidatorFactory } from './validation.ts';
import { notificationRoutes } from './notifications.ts';
import { templateRoutes } from './templates.ts';
import { receivedTextRoutes } from './received-texts.ts';
import { bulkRoutes } from './bulk.ts';
import { suppressionRoutes } from './suppressions.ts';
import { ApiRequestLog } from '../../settings/api-keys.ts';

export async function v2Routes(app: FastifyInstance, opts: V2Options) {
  const compile = createValidatorFactory({ checks: formatChecks(opts.phoneRegion) });
  const ctx: V2Context = {
    ...opts,
    compile,
    uuid: (value) => canonicalUuid(value)!,
    parseDate: (value) => parseIsoDate(value)!,
    formatDate,
  };

  // Notify reads the body itself, whatever the Content-Type says; the bulk route allows more (bulk.ts).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: V2_BODY_LIMIT }, (_req, body, done) =>
    done(null, body),
  );

  // The service's recent requests for its API page: one push into memory per answered request, written each second.
  const requestLog = new ApiRequestLog(opts.db, {
    onError: (err) => app.log.warn({ err }, 'could not record recent API requests'),
  });

  app.addHook('onRequest', async (request) => {
    try {
      request.caller = await authenticate(opts.directory, request.headers.authorization);
    } catch (err) {
      // A revoked key's signature was checked, so the service is known: its team sees the refusal too.
      const refused =
        err instanceof ApiError && err.message === AUTH_MESSAGES.revoked
          ? serviceNamedBy(request.headers.authorization)
          : null;
      if (refused)
        requestLog.record(refused, null, request.method, request.url, err instanceof ApiError ? err.statusCode : 403);
      throw err;
    }
  });

  app.addHook('onResponse', (request, reply, done) => {
    const caller = request.caller;
    if (caller) requestLog.record(caller.service.id, caller.keyId, request.method, request.url, reply.statusCode);
    done();
  });
  app.addHook('onClose', () => requestLog.close());

  notificationRoutes(app, ctx);
  templateRoutes(app, ctx);
  receivedTextRoutes(app, ctx);
  bulkRoutes(app, ctx);
  suppressionRoutes(app, ctx);
}
