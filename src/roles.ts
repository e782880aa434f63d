/**
 * Each role of a running Envoi, built from the services of app-services.ts and started: the API (the HTTP app, and
 * on the embedded database the command bridge and its hand-off file), the delivery worker (Notify's catalogue of
 * background work through the one runner, and the bounce listener), or both (`envoi start`). Stopping them keeps
 * the order that loses nothing: intake first, then the app and the jobs it started, then the loops.
 */
import type { Logger } from 'pino';
import type { Config } from './platform/config.ts';
import { type DbHandle, pingDatabase } from './platform/database/connection.ts';
import { measureDatabase } from './platform/metrics.ts';
import { writeHandoff, type ServerHandoff } from './platform/runtime.ts';
import { startAll } from './platform/queue/runner.ts';
import { createApp } from './app.ts';
import { createServices, type AppServices } from './app-services.ts';
import { notifyBackgroundWork } from './notify/background-work.ts';
import { commandBridgeRoutes } from './commands/command-bridge.ts';
import { runCommand, sendBulk, type CommandName } from './commands/commands.ts';
import { APP_VERSION } from './version.ts';

export interface Roles {
  api: boolean;
  worker: boolean;
}

/** The open data folder a role runs on. */
export interface State {
  config: Config;
  database: DbHandle;
  /** DATABASE_READ_URL's replica, for reads that may lag; null: they go to `database`. */
  readDatabase?: DbHandle | null;
  secretKey: string;
}

export interface RunningRoles {
  /** How the CLI's commands reach this server on the embedded database; null otherwise. */
  handoff: ServerHandoff | null;
  stop(): Promise<void>;
}

export async function startRoles(state: State, roles: Roles, logger: Logger): Promise<RunningRoles> {
  const services = createServices(state.config, state.database, state.secretKey, logger, state.readDatabase);
  const unmeasure = measureDatabase(() => pingDatabase(state.database.db));
  const api = roles.api ? await startApi(state, services, logger) : null;
  const worker = roles.worker ? await startWorker(services, logger) : null;
  return {
    handoff: api?.handoff ?? null,
    async stop() {
      unmeasure();
      // Stop taking bounce reports before the receipts they feed are closed (with the app, or below).
      await worker?.stopIntake();
      await api?.stop();
      await worker?.stop();
      if (worker && !api) await services.receipts.close();
    },
  };
}

async function startApi(state: State, services: AppServices, logger: Logger) {
  const { config, database, secretKey } = state;
  const app = await createApp(services, { logger });
  const embedded = !config.databaseUrl;
  let bridgeToken = '';
  if (embedded) {
    await app.register(commandBridgeRoutes, {
      token: () => bridgeToken,
      run: (name: CommandName, input: never) =>
        runCommand(name, input, {
          config,
          database,
          secretKey,
          afterWrite: (ids) => {
            for (const id of ids) services.directory.invalidate(id);
          },
        }),
      sendBulk: (input, source, onEvent) => sendBulk(services, input, source, onEvent),
    });
  }
  const address = await app.listen({ port: config.port, host: config.host });
  let handoff: ServerHandoff | null = null;
  if (embedded) {
    handoff = writeHandoff(config, address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '[::1]'));
    bridgeToken = handoff.token;
  }
  logger.info(
    `Envoi ${APP_VERSION} listening on ${address} (${database.kind === 'pglite' ? `embedded database in ${config.dataDir}` : 'PostgreSQL'})`,
  );
  return {
    handoff,
    async stop() {
      await app.close();
      // Jobs the API started finish before the database closes (or roll back whole if the process is killed).
      await services.jobs.idle();
    },
  };
}

async function startWorker(services: AppServices, logger: Logger) {
  const { config, database, directory, secrets, jobs } = services;
  const { db } = database;
  // What the API accepts in this process (`envoi start`) is claimed at once; in another process, at the next poll.
  const newWork = services.send.writer.committed;
  // Deliveries, callbacks, bulk jobs and the scheduler: every entry of Notify's catalogue, through one runner.
  const background = startAll(
    notifyBackgroundWork({ db, database, config, secrets, directory, jobs, logger, newWork }),
    { db, logger },
  );
  logger.info(
    `delivery worker started (email: ${config.emailProviders.join(' → ')}, sms: ${config.smsProviders.join(' → ')})`,
  );
  let bounces: { close(): Promise<void> } | null = null;
  if (config.bounceSmtpPort !== null) {
    const { startBounceListener } = await import('./notify/delivery/receipts/bounces.ts');
    const listener = await startBounceListener({
      port: config.bounceSmtpPort,
      host: config.bounceSmtpHost,
      emailDomain: config.emailDomain,
      sink: services.receipts,
      logger,
    });
    logger.info(`receiving bounce reports on ${config.bounceSmtpHost}:${listener.port}`);
    bounces = listener;
  }
  return {
    stopIntake: async () => {
      await bounces?.close();
    },
    stop: () => background.stop(),
  };
}
