/**
 * The HTTP application: the v2 API, the status endpoint, the provider hooks and the web UI, with Notify's answers
 * for errors, unknown URLs and wrong methods. Built from the services of app-services.ts, so tests and the CLI
 * assemble it the same way.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { ApiError, ValidationErrors } from './notify/api/v2/errors.ts';
import { refusalError } from './notify/api/v2/refusal-wire.ts';
import { v2Routes } from './notify/api/v2/routes.ts';
import { statusRoutes } from './platform/http/status.ts';
import { isDatabaseUnavailable } from './platform/database/unavailable.ts';
import { InvalidRecipientError } from './platform/recipients.ts';
import { SendRefused } from './notify/sending/refusals.ts';
import { providerRoutes } from './notify/api/providers/routes.ts';
import { adminRoutes, renderNotFound } from './web-ui.ts';
import { childOf, httpDuration, httpRequests } from './platform/metrics.ts';
import { createAdminDeps, type AppServices } from './app-services.ts';
import { APP_VERSION } from './version.ts';
import { proxyTrust, settlePublicUrl } from './platform/config.ts';

// Where tests and benchmarks have always found them.
export { createServices, type AppServices } from './app-services.ts';

/** While the database is out of reach (a restart or failover takes seconds). */
const RETRY_AFTER_SECONDS = 5;
const UNAVAILABLE_MESSAGE = 'Service temporarily unavailable, try again shortly';

const NOT_FOUND_MESSAGE =
  'The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.';

export async function createApp(
  services: AppServices,
  opts: { logger?: FastifyBaseLogger } = {},
): Promise<FastifyInstance> {
  const { config, database } = services;
  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: false }),
    bodyLimit: 10 * 1024 * 1024,
    trustProxy: proxyTrust(config.trustProxy),
    // Room for an email address (320 characters) in a suppression's URL; longer parts answer 414 below.
    routerOptions: { maxParamLength: 1_000 },
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
  });
  app.addHook('onListen', async () => {
    const address = app.server.address();
    if (address && typeof address === 'object') settlePublicUrl(config, address.port);
  });
  app.setErrorHandler(apiErrorHandler(() => config.publicUrl));
  app.setNotFoundHandler(notFoundHandler);
  // Only in a process that serves its metrics: otherwise nobody reads them, and every request would pay for them.
  if (services.config.metrics.port !== null) countRequests(app);
  const routes = knownRoutes(app);

  const { rateLimiter } = services;
  rateLimiter.start((err) => app.log.warn({ err }, 'could not share API rate limit counts with the other replicas'));
  app.addHook('onClose', () => rateLimiter.stop());

  await app.register(statusRoutes, { database, version: APP_VERSION });
  await app.register(v2Routes, {
    db: database.db,
    directory: services.directory,
    rateLimiter,
    send: services.send,
    jobs: services.jobs,
    publicUrl: () => config.publicUrl,
    smsRate: config.smsRate,
    phoneRegion: config.phoneRegion,
  });
  await app.register(providerRoutes, {
    sink: services.receipts,
    db: database.db,
    snsVerifier: services.snsVerifier,
    config,
  });
  await app.register(adminRoutes, { prefix: '/', deps: await createAdminDeps(services) });
  app.addHook('onClose', () => services.receipts.close());
  answerWrongMethods(app, routes);
  return app;
}

/** Errors worded as Notify words them: refusals, API errors, 413 and other 4xx, and a bare 500. */
function apiErrorHandler(publicUrl: () => string) {
  return (error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    // A recipient validator's error that no domain rule turned into a refusal is worded as that refusal would be.
    const refusal =
      error instanceof SendRefused
        ? error.refusal
        : error instanceof InvalidRecipientError
          ? ({ code: 'invalid-recipient', problem: error.problem } as const)
          : null;
    if (refusal) {
      const refused = refusalError(refusal, `${publicUrl()}/`);
      return reply.code(refused.statusCode).send(refused.toBody());
    }
    if (error instanceof ApiError || error instanceof ValidationErrors) {
      return reply.code(error instanceof ApiError ? error.statusCode : 400).send(error.toBody());
    }
    const status = (error as FastifyError).statusCode;
    if (status === 413) {
      return reply
        .code(413)
        .send({ status_code: 413, errors: [{ error: 'RequestEntityTooLarge', message: 'Request body is too large' }] });
    }
    if (status && status >= 400 && status < 500) {
      return reply
        .code(status)
        .send({ status_code: status, errors: [{ error: 'BadRequestError', message: error.message }] });
    }
    if (isDatabaseUnavailable(error)) {
      // Every request fails alike during an outage: the pool's own line says so once, not one line per request.
      request.log.debug({ err: error }, 'database unavailable');
      return reply
        .code(503)
        .header('retry-after', String(RETRY_AFTER_SECONDS))
        .send({ status_code: 503, errors: [{ error: 'ServiceUnavailable', message: UNAVAILABLE_MESSAGE }] });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply
      .code(500)
      .send({ status_code: 500, errors: [{ error: 'Exception', message: 'Internal server error' }] });
  };
}

/** A URL the router cannot read (bad percent-encoding, a part too long), answered in Notify's words. */
function answerFrameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  const status = error.statusCode ?? 400;
  const message =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? 'A part of the URL is too long'
      : error.code === 'FST_ERR_BAD_URL'
        ? 'The URL is not valid: it has a malformed percent-encoding'
        : error.message;
  return reply
    .code(status)
    .send({ status_code: status, errors: [{ error: status >= 500 ? 'Exception' : 'BadRequestError', message }] });
}

/**
 * What Node's HTTP parser refuses before Fastify sees a request (headers or URL over 16 KB, a malformed request),
 * answered in Notify's error format, as Fastify's default handler answers them in its own.
 */
function answerClientError(this: FastifyInstance, error: Error & { code?: string }, socket: Duplex) {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'The request headers (the URL included) are too large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'The request took too long to arrive']
        : [400, 'The request is not valid HTTP'];
  const body = JSON.stringify({ status_code: status, errors: [{ error: 'BadRequestError', message }] });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

function notFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  // Browsers asking for a page outside the API get the web UI's page; API clients keep Notify's JSON answer.
  const apiPath = /^\/(v2|_|providers)(\/|$)/.test(request.url);
  if (!apiPath && request.method === 'GET' && (request.headers.accept ?? '').includes('text/html'))
    return renderNotFound(request, reply);
  return reply.code(404).send({ result: 'error', message: NOT_FOUND_MESSAGE });
}

/** Every answer, API, web UI and provider hooks alike, under its route pattern: ids in URLs never become labels. */
function countRequests(app: FastifyInstance): void {
  const requestCount = childOf((method, route, status) => httpRequests.labels(method, route, status));
  const requestDuration = childOf((method, route) => httpDuration.labels(method, route));
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    if (route !== '/metrics') {
      requestCount(request.method, route, String(reply.statusCode)).inc();
      requestDuration(request.method, route).observe(reply.elapsedTime / 1000);
    }
    done();
  });
}

/** The methods of every URL registered from now on, filled in as routes are added. */
function knownRoutes(app: FastifyInstance): Map<string, Set<string>> {
  const routes = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const methods = routes.get(route.url) ?? new Set<string>();
    for (const m of ([] as string[]).concat(route.method)) methods.add(m);
    routes.set(route.url, methods);
  });
  return routes;
}

/** A known URL with another method answers 405, outside the v2 plugin so that no authentication runs first. */
function answerWrongMethods(app: FastifyInstance, routes: Map<string, Set<string>>): void {
  for (const [url, methods] of [...routes]) {
    const others = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => !methods.has(m));
    if (others.length === 0) continue;
    app.route({
      method: others as 'GET'[],
      url,
      handler: (_request, reply) =>
        reply.code(405).send({ result: 'error', message: 'The method is not allowed for the requested URL.' }),
    });
  }
}
