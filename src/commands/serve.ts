/** envoi start | api | worker: runs a role until SIGINT or SIGTERM, with its metrics listener if one is set. */
import type { Config } from '../platform/config.ts';
import { loggerOptions } from '../platform/log-redaction.ts';
import type { Logger } from '../platform/queue/background.ts';
import type { startMetricsServer } from '../platform/metrics.ts';
import { openState, removeHandoff, runningServer } from '../platform/runtime.ts';
import { MIGRATIONS } from '../migrations.ts';
import type { Roles } from '../roles.ts';
import { OperatorError } from './operator-error.ts';

export async function serve(config: Config, roles: Roles): Promise<number> {
  refuseImpossibleRoles(config, roles);
  const [{ default: pino }, { startMetricsServer }] = await Promise.all([
    import('pino'),
    import('../platform/metrics.ts'),
  ]);
  const logger = pino(loggerOptions(config.logLevel));
  // First: a port already taken stops start-up at once, before there is anything to close.
  const metrics =
    config.metrics.port === null ? null : await listenForMetrics(startMetricsServer, config.metrics, logger);
  if (metrics) logger.info(`serving metrics at ${metrics.url}`);
  // Heavy modules (database, HTTP server, providers) load only now.
  const { startRoles } = await import('../roles.ts');
  const { database, readDatabase, secretKey, migrated } = await openState(config, MIGRATIONS);
  if (migrated.length) logger.info({ migrations: migrated }, 'database migrated');
  const running = await startRoles({ config, database, readDatabase, secretKey }, roles, logger);

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  logger.info('stopping');
  const deadline = shutdownDeadline(config.shutdownTimeoutSeconds, logger);
  await running.stop();
  // Last, so that the rest can still be watched while it stops.
  await metrics?.close();
  if (running.handoff) removeHandoff(config, running.handoff);
  await readDatabase?.close();
  await database.close();
  deadline.cancel();
  return 0;
}

/**
 * Stopping (intake closed, work in flight finished, rows not started given back) may not take for ever: a database
 * that does not answer would hold it. Past the bound, or at a second signal, the process exits non-zero at once;
 * rows it still held come back when their leases run out.
 */
function shutdownDeadline(seconds: number, logger: Logger): { cancel(): void } {
  const giveUp = (why: string) => {
    logger.error(
      {},
      `${why}: exiting without finishing the work in flight (its rows return when their leases run out)`,
    );
    process.exit(1);
  };
  const timer = setTimeout(() => giveUp(`not stopped after ${seconds} s (SHUTDOWN_TIMEOUT_SECONDS)`), seconds * 1000);
  const again = () => giveUp('second signal while stopping');
  process.once('SIGINT', again);
  process.once('SIGTERM', again);
  return {
    cancel() {
      clearTimeout(timer);
      process.off('SIGINT', again);
      process.off('SIGTERM', again);
    },
  };
}

/** Settings that cannot run this role, and an embedded database another process holds. */
function refuseImpossibleRoles(config: Config, roles: Roles): void {
  const holder = runningServer(config);
  if (holder) {
    throw new OperatorError(
      `the embedded database in ${config.dataDir} is in use by Envoi (pid ${holder.pid}, ${holder.url}). ` +
        'Stop it first, or set DATABASE_URL to run several processes on PostgreSQL.',
    );
  }
  if (!config.databaseUrl && !(roles.api && roles.worker)) {
    throw new OperatorError('running the API and the worker as separate processes needs PostgreSQL: set DATABASE_URL');
  }
  if (roles.api && config.metrics.port !== null && config.metrics.port !== 0 && config.metrics.port === config.port) {
    throw new OperatorError(`METRICS_PORT and PORT are both ${config.port}: metrics need a port of their own`);
  }
}

/** The metrics listener, or an operator's error naming the setting when its address cannot be used. */
async function listenForMetrics(
  start: typeof startMetricsServer,
  where: { port: number | null; host: string },
  logger: Logger,
) {
  try {
    return await start({ port: where.port ?? 0, host: where.host, logger });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const address = `${where.host}:${where.port}`;
    if (code === 'EADDRINUSE')
      throw new OperatorError(`cannot serve metrics on ${address}: the port is already in use (METRICS_PORT)`);
    if (code === 'EACCES')
      throw new OperatorError(`cannot serve metrics on ${address}: permission denied (METRICS_PORT)`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      throw new OperatorError(`cannot serve metrics on ${address}: METRICS_HOST is not an address of this machine`);
    }
    throw err;
  }
}
