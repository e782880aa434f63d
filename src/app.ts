/**
 * The HTTP application: the v2 API, the status endpoint, and Notify's answers for unknown URLs and wrong
 * methods. Built from an open database and the config, so tests and the CLI assemble it the same way.
 */
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Config } from './platform/config.ts';
import type { DbHandle } from './platform/database/connection.ts';
import { ApiError, ValidationErrors } from './notify/api/v2/errors.ts';
import { refusalError } from './notify/api/v2/refusal-wire.ts';
import { urlRoot } from './notify/api/v2/request.ts';
import { v2Routes } from './notify/api/v2/routes.ts';
import { statusRoutes } from './platform/http/status.ts';
import { ServiceDirectory } from './notify/sending/service-directory.ts';
import { DailyLimits, RateLimiter } from './notify/sending/limits.ts';
import { NotificationWriter } from './notify/sending/notification-writer.ts';
import { SecretBox } from './platform/secret-box.ts';
import { InvalidRecipientError } from './platform/recipients.ts';
import { SendRefused } from './notify/sending/refusals.ts';
import type { SendContext } from './notify/sending/send-rules.ts';
import { Jobs } from './notify/jobs/jobs.ts';
import type { Logger } from './platform/queue/background.ts';
import { createReceiptApplier, type ReceiptApplier } from './notify/delivery/receipts/applier.ts';
import { createSnsVerifier, type SnsVerifier } from './notify/delivery/receipts/sns.ts';
import { providerRoutes } from './notify/api/providers/routes.ts';
import { adminRoutes, renderNotFound } from './web-ui.ts';
import { childOf, httpDuration, httpRequests } from './platform/metrics.ts';

export interface AppServices {
  config: Config;
  database: DbHandle;
  secrets: SecretBox;
  directory: ServiceDirectory;
  send: SendContext;
  jobs: Jobs;
  /** Applies provider receipts in batches; closed with the app. */
  receipts: ReceiptApplier;
  /** Checks SNS signatures on /providers/* (tests swap in one that trusts their own CA). */
  snsVerifier: SnsVerifier;
  /** The API's per-minute limit, shared with the other API replicas through the database while an app runs. */
  rateLimiter: RateLimiter;
}

export function createServices(config: Config, database: DbHandle, secretKey: string, logger?: Logger): AppServices {
  const secrets = new SecretBox(secretKey);
  const directory = new ServiceDirectory(database.db, secrets);
  const limits = new DailyLimits(database.db);
  const writer = new NotificationWriter(database.db, limits, {
    maxBatch: 500,
    // Up to three batches at a time, each on its own daily counter shard, so that while one waits on its commit
    // the others are written and the event loop is not left idle waiting on the disk (measured, 64 connections:
    // 1 → 2 → 3 in flight ≈ +7% each time; 4 gave no more, at more database CPU).
    maxInFlight: 3,
  });
  return {
    config,
    database,
    secrets,
    directory,
    send: { directory, limits, writer, emailDomain: config.emailDomain, phoneRegion: config.phoneRegion },
    jobs: new Jobs({
      database,
      directory,
      limits,
      phoneRegion: config.phoneRegion,
      emailDomain: config.emailDomain,
      leaseSeconds: config.jobs.leaseSeconds,
      maxAttempts: config.jobs.maxAttempts,
      logger,
    }),
    receipts: createReceiptApplier(database.db, { logger }),
    snsVerifier: createSnsVerifier(config.snsTopicArns.length > 0 ? { topicArns: config.snsTopicArns } : {}),
    rateLimiter: new RateLimiter({ db: database.db }),
  };
}

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
    trustProxy: true,
  });

  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    // A recipient validator's error that no domain rule turned into a refusal is worded as that refusal would be.
    const refusal =
      error instanceof SendRefused
        ? error.refusal
        : error instanceof InvalidRecipientError
          ? ({ code: 'invalid-recipient', problem: error.problem } as const)
          : null;
    if (refusal) {
      const refused = refusalError(refusal, urlRoot(request, config.publicUrl));
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
    request.log.error({ err: error }, 'unhandled error');
    return reply
      .code(500)
      .send({ status_code: 500, errors: [{ error: 'Exception', message: 'Internal server error' }] });
  });

  app.setNotFoundHandler((request, reply) => {
    // Browsers asking for a page outside the API get the web UI's page; API clients keep Notify's JSON answer.
    const apiPath = /^\/(v2|_|providers)(\/|$)/.test(request.url);
    if (!apiPath && request.method === 'GET' && (request.headers.accept ?? '').includes('text/html'))
      return renderNotFound(request, reply);
    return reply.code(404).send({ result: 'error', message: NOT_FOUND_MESSAGE });
  });

  // Every answer, API, web UI and provider hooks alike, under its route pattern: ids in URLs never become labels.
  // Only in a process that serves its metrics: otherwise nobody reads them, and every request would pay for them.
  if (services.config.metrics.port !== null) {
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

  const routes = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const methods = routes.get(route.url) ?? new Set<string>();
    for (const m of ([] as string[]).concat(route.method)) methods.add(m);
    routes.set(route.url, methods);
  });

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
    publicUrl: config.publicUrl,
    smsRate: config.smsRate,
    phoneRegion: config.phoneRegion,
  });
  await app.register(providerRoutes, {
    sink: services.receipts,
    db: database.db,
    snsVerifier: services.snsVerifier,
    config,
  });
  await app.register(adminRoutes, { prefix: '/', services });
  app.addHook('onClose', () => services.receipts.close());
  // A known URL with another method answers 405, outside the v2 plugin so that no authentication runs first.
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
  return app;
}

export const APP_VERSION: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;
