/**
 * envoi start | api | worker | migrate | bootstrap FILE | outbox — the one entry point for every role and
 * operator command. Every command works on both databases; on the embedded one, commands that need data go
 * through a running server when there is one, because PGlite admits one process per data folder.
 */
import { readFile, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createReadStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { loadConfig, ConfigError, type Config } from './platform/config.ts';
import { runningServer, type ServerHandoff } from './platform/runtime.ts';
import { MIGRATIONS } from './migrations.ts';
import type { CommandInput, CommandName, SendBulkEvent, SendBulkInput } from './commands/commands.ts';
import type { OutboxEntry } from './notify/delivery/outbox.ts';
import type { startMetricsServer } from './platform/metrics.ts';
import type { Logger } from './platform/queue/background.ts';

// Heavy modules (database, HTTP server, providers) load inside the commands that need them, so that `help`
// and configuration errors answer at once.
const APP_VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

/** A problem in what the operator asked for: shown as one line, exit status 2. */
class OperatorError extends Error {}

const USAGE = `Envoi ${APP_VERSION}: notifications for public services

Usage: envoi <command> [options]

  start                 run the API and the delivery worker in one process (default)
  api                   run the API only (scale out behind a load balancer; needs DATABASE_URL)
  worker                run the delivery worker only (needs DATABASE_URL)
  migrate               apply database migrations and exit
  bootstrap FILE.json   create or update services from a file; prints ids and API keys as JSON
  send-bulk --service ID --template ID [--name NAME] [--schedule ISO-8601] FILE
                        send to every row of a CSV, TSV or Excel file (a bulk job); shows the
                        report and exits with status 2 if the file has problems
  outbox [--limit N] [--service ID] [--json]
                        show the latest messages the sink providers kept
  create-admin --email EMAIL [--name NAME]
                        make a platform admin of the web UI; prints a one-time link to
                        choose the password
  help                  show this text

Settings come from environment variables; see README.md.`;

async function main(argv: string[]): Promise<number> {
  const [command = 'start', ...rest] = argv;
  if (command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return 0;
  }
  if (command === '--version' || command === 'version') {
    console.log(APP_VERSION);
    return 0;
  }
  const config = loadConfig();
  switch (command) {
    case 'start':
      return serve(config, { api: true, worker: true });
    case 'api':
      return serve(config, { api: true, worker: false });
    case 'worker':
      return serve(config, { api: false, worker: true });
    case 'migrate':
      return migrateCommand(config);
    case 'bootstrap':
      return bootstrapCommand(config, rest);
    case 'outbox':
      return outboxCommand(config, rest);
    case 'send-bulk':
      return sendBulkCommand(config, rest);
    case 'create-admin':
      return createAdminCommand(config, rest);
    default:
      throw new OperatorError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

async function serve(config: Config, roles: { api: boolean; worker: boolean }): Promise<number> {
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
  const [{ default: pino }, { startMetricsServer }] = await Promise.all([
    import('pino'),
    import('./platform/metrics.ts'),
  ]);
  const logger = pino({ level: config.logLevel });
  // First: a port already taken stops start-up at once, before there is anything to close.
  const metrics =
    config.metrics.port === null ? null : await listenForMetrics(startMetricsServer, config.metrics, logger);
  if (metrics) logger.info(`serving metrics at ${metrics.url}`);
  const [
    { openState, writeHandoff, removeHandoff },
    { createApp, createServices },
    { notifyBackgroundWork },
    { startAll },
    { commandBridgeRoutes },
    { runCommand, sendBulk },
  ] = await Promise.all([
    import('./platform/runtime.ts'),
    import('./app.ts'),
    import('./notify/background-work.ts'),
    import('./platform/queue/runner.ts'),
    import('./commands/command-bridge.ts'),
    import('./commands/commands.ts'),
  ]);
  const { database, secretKey, migrated } = await openState(config, MIGRATIONS);
  if (migrated.length) logger.info({ migrations: migrated }, 'database migrated');
  const services = createServices(config, database, secretKey, logger);
  const stops: Array<() => Promise<void>> = [];
  let handoff: ServerHandoff | null = null;

  if (roles.api) {
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
    if (embedded) {
      handoff = writeHandoff(config, address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '[::1]'));
      bridgeToken = handoff.token;
    }
    logger.info(
      `Envoi ${APP_VERSION} listening on ${address} (${database.kind === 'pglite' ? `embedded database in ${config.dataDir}` : 'PostgreSQL'})`,
    );
    stops.push(() => app.close());
    // Jobs the API started finish before the database closes (or roll back whole if the process is killed).
    stops.push(() => services.jobs.idle());
  }
  if (roles.worker) {
    // Deliveries, callbacks, bulk jobs and the scheduler: every entry of Notify's catalogue, through one runner.
    const { db } = database;
    const { directory, secrets, jobs } = services;
    const background = startAll(notifyBackgroundWork({ db, database, config, secrets, directory, jobs, logger }), {
      db,
      logger,
    });
    logger.info(
      `delivery worker started (email: ${config.emailProviders.join(' → ')}, sms: ${config.smsProviders.join(' → ')})`,
    );
    stops.push(() => background.stop());
    if (config.bounceSmtpPort !== null) {
      const { startBounceListener } = await import('./notify/delivery/receipts/bounces.ts');
      const bounces = await startBounceListener({
        port: config.bounceSmtpPort,
        host: config.bounceSmtpHost,
        emailDomain: config.emailDomain,
        sink: services.receipts,
        logger,
      });
      logger.info(`receiving bounce reports on ${config.bounceSmtpHost}:${bounces.port}`);
      // Stop taking reports before the receipts they feed are closed.
      stops.unshift(() => bounces.close());
    }
    if (!roles.api) stops.push(() => services.receipts.close());
  }
  // Last, so that the rest can still be watched while it stops.
  if (metrics) stops.push(() => metrics.close());

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  logger.info('stopping');
  for (const s of stops) await s();
  if (handoff) removeHandoff(config, handoff);
  await database.close();
  return 0;
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

async function migrateCommand(config: Config): Promise<number> {
  const holder = runningServer(config);
  if (holder) {
    console.log(
      `Envoi is running on this data folder (pid ${holder.pid}); it applied every migration when it started.`,
    );
    return 0;
  }
  const { openState } = await import('./platform/runtime.ts');
  const { database, migrated } = await openState(config, MIGRATIONS);
  await database.close();
  console.log(migrated.length ? `applied: ${migrated.join(', ')}` : 'the database is up to date');
  return 0;
}

/** Runs a data command in the running embedded server if there is one, else on the database directly. */
async function dataCommand<K extends CommandName>(config: Config, name: K, input: CommandInput[K]): Promise<unknown> {
  const holder = runningServer(config);
  if (holder) {
    const response = await fetch(`${holder.url}/_internal/commands/${name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-envoi-command-token': holder.token },
      body: JSON.stringify(input),
    });
    const body = (await response.json()) as { result?: unknown; error?: string };
    if (!response.ok) throw new OperatorError(body.error ?? `the running server answered ${response.status}`);
    return body.result;
  }
  const [{ openState }, { runCommand }] = await Promise.all([
    import('./platform/runtime.ts'),
    import('./commands/commands.ts'),
  ]);
  const { database, secretKey } = await openState(config, MIGRATIONS);
  try {
    return await runCommand(name, input, { config, database, secretKey });
  } finally {
    await database.close();
  }
}

async function bootstrapCommand(config: Config, args: string[]): Promise<number> {
  const file = args[0];
  if (!file) throw new OperatorError('usage: envoi bootstrap FILE.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new OperatorError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new OperatorError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  const result = await dataCommand(config, 'bootstrap', { file: data });
  console.log(JSON.stringify(result, null, 2));
  return 0;
}

async function outboxCommand(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      limit: { type: 'string', default: '10' },
      service: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new OperatorError('--limit must be a whole number from 1 to 1000');
  const entries = (await dataCommand(config, 'outbox', { limit, serviceId: values.service })) as OutboxEntry[];
  if (values.json) {
    console.log(JSON.stringify(entries, null, 2));
    return 0;
  }
  if (entries.length === 0) {
    console.log('The outbox is empty: nothing has been sent through the sink providers yet.');
    return 0;
  }
  for (const e of entries) {
    console.log(
      `── ${e.channel} to ${e.recipient} · ${new Date(e.createdAt).toISOString()} · notification ${e.notificationId}`,
    );
    if (e.sender) console.log(`From: ${e.sender}`);
    if (e.subject) console.log(`Subject: ${e.subject}`);
    console.log('');
    console.log(e.body);
    console.log('');
  }
  return 0;
}

async function createAdminCommand(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { email: { type: 'string' }, name: { type: 'string' } } });
  if (!values.email) throw new OperatorError('usage: envoi create-admin --email EMAIL [--name NAME]');
  const holder = runningServer(config);
  if (holder) {
    throw new OperatorError(
      `Envoi is running on the embedded database in ${config.dataDir} (pid ${holder.pid}): stop it and run create-admin again, ` +
        `or, while no account exists, create the first admin at ${holder.url}/`,
    );
  }
  const [{ openState }, { Accounts, AccountError }, { SecretBox }] = await Promise.all([
    import('./platform/runtime.ts'),
    import('./platform/accounts/accounts.ts'),
    import('./platform/secret-box.ts'),
  ]);
  const { database, secretKey } = await openState(config, MIGRATIONS);
  try {
    const accounts = new Accounts(database.db, new SecretBox(secretKey), { signupDomains: config.signupDomains });
    const email = values.email.trim();
    const { account, token } = await accounts
      .createAdmin({ email, name: values.name?.trim() || email.slice(0, email.indexOf('@')) })
      .catch((err: unknown) => {
        if (err instanceof AccountError) throw new OperatorError(err.message);
        throw err;
      });
    const origin = config.publicUrl ?? `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}`;
    console.log(
      `${account.email} is a platform admin. To choose a password, open this link within 72 hours (it works once):`,
    );
    console.log(`${origin}/set-password/${token}`);
  } finally {
    await database.close();
  }
  return 0;
}

async function sendBulkCommand(config: Config, args: string[]): Promise<number> {
  const usage = 'usage: envoi send-bulk --service ID --template ID [--name NAME] [--schedule ISO-8601] FILE';
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      service: { type: 'string' },
      template: { type: 'string' },
      name: { type: 'string' },
      schedule: { type: 'string' },
    },
  });
  const file = positionals[0];
  if (positionals.length !== 1 || !values.service || !values.template || !file) throw new OperatorError(usage);
  const [{ formatFromFilename }, { parseIsoDate }, { canonicalUuid }] = await Promise.all([
    import('./notify/jobs/spreadsheet.ts'),
    import('./notify/api/v2/request.ts'),
    import('./platform/ids.ts'),
  ]);
  const serviceId = canonicalUuid(values.service);
  const templateId = canonicalUuid(values.template);
  if (!serviceId) throw new OperatorError(`--service must be a service id (a UUID), got "${values.service}"`);
  if (!templateId) throw new OperatorError(`--template must be a template id (a UUID), got "${values.template}"`);
  const format = formatFromFilename(file);
  if (!format)
    throw new OperatorError(`cannot tell what kind of file ${file} is: its name must end in .csv, .tsv, .txt or .xlsx`);
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (err) {
    throw new OperatorError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let scheduledFor: string | null = null;
  if (values.schedule) {
    const date = parseIsoDate(values.schedule);
    if (!date)
      throw new OperatorError(`--schedule must be a date and time in ISO 8601, e.g. 2026-03-02T09:00:00-05:00`);
    scheduledFor = date.toISOString();
  }
  const input: SendBulkInput = {
    serviceId,
    templateId,
    name: values.name ?? path.basename(file),
    format,
    scheduledFor,
  };

  const display = progressDisplay(path.basename(file), size);
  const holder = runningServer(config);
  let outcome: SendBulkEvent;
  try {
    outcome = holder
      ? await sendBulkThroughServer(holder, input, file, display.show)
      : await sendBulkDirectly(config, input, file, display.show);
  } finally {
    display.end();
  }
  if (outcome.type === 'refused') {
    console.error(`envoi: ${file} cannot be sent:`);
    for (const line of outcome.problems) console.error(`  ${line}`);
    return 2;
  }
  if (outcome.type !== 'done') throw new Error(`unexpected outcome ${outcome.type}`);
  const { counts } = outcome;
  console.log(
    `job ${outcome.jobId}: ${counts.rows.toLocaleString('en')} rows, ${outcome.status}${outcome.scheduledFor ? ` for ${outcome.scheduledFor}` : ''}`,
  );
  if (outcome.status === 'error') {
    // Failed on every attempt (JOB_MAX_ATTEMPTS): a fault of Envoi or its database, not of the command.
    console.error(
      `envoi: job ${outcome.jobId} failed on every attempt and none of its messages were sent; the log has the errors`,
    );
    return 1;
  }
  if (outcome.status !== 'scheduled') {
    console.log(
      `queued ${counts.queued.toLocaleString('en')}, sending ${counts.sending.toLocaleString('en')}, ` +
        `delivered ${counts.delivered.toLocaleString('en')}, failed ${counts.failed.toLocaleString('en')}`,
    );
  }
  return 0;
}

async function sendBulkDirectly(
  config: Config,
  input: SendBulkInput,
  file: string,
  onEvent: (e: SendBulkEvent) => void,
) {
  const [{ openState }, { createServices }, { sendBulk }] = await Promise.all([
    import('./platform/runtime.ts'),
    import('./app.ts'),
    import('./commands/commands.ts'),
  ]);
  const { database, secretKey } = await openState(config, MIGRATIONS);
  const services = createServices(config, database, secretKey);
  try {
    return await sendBulk(services, input, createReadStream(file), onEvent);
  } finally {
    await services.jobs.idle();
    await database.close();
  }
}

/** The file goes to the server as the request body, as it is; the answer is one JSON event per line. */
async function sendBulkThroughServer(
  holder: ServerHandoff,
  input: SendBulkInput,
  file: string,
  onEvent: (e: SendBulkEvent) => void,
) {
  const query = new URLSearchParams({
    service: input.serviceId,
    template: input.templateId,
    name: input.name,
    format: input.format,
  });
  if (input.scheduledFor) query.set('schedule', input.scheduledFor);
  const response = await fetch(`${holder.url}/_internal/commands/send-bulk?${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'x-envoi-command-token': holder.token },
    body: Readable.toWeb(createReadStream(file)) as ReadableStream,
    duplex: 'half',
  } as RequestInit);
  if (!response.ok || !response.body) throw new OperatorError(`the running server answered ${response.status}`);
  let buffered = '';
  let last: SendBulkEvent | { type: 'error'; message: string } | null = null;
  for await (const chunk of response.body.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      last = JSON.parse(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
      if (last!.type === 'progress' || last!.type === 'created') onEvent(last as SendBulkEvent);
    }
  }
  if (!last) throw new Error('the running server closed the connection without an answer');
  if (last.type === 'error') throw new Error(`the running server could not send the file: ${last.message}`);
  return last;
}

/**
 * What send-bulk shows on stderr: a bar redrawn in place on a terminal; elsewhere (a log, CI) one plain line per
 * stage.
 */
function progressDisplay(fileName: string, fileSize: number) {
  const tty = process.stderr.isTTY === true;
  const width = 30;
  let stage = '';
  let barShown = false;
  const number = (n: number) => n.toLocaleString('en');
  const bar = (label: string, fraction: number, detail: string) => {
    const f = Math.max(0, Math.min(1, fraction));
    const filled = Math.round(f * width);
    process.stderr.write(
      `\r${label.padEnd(10)} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(f * 100)).padStart(3)}%  ${detail}\x1b[K`,
    );
    barShown = true;
  };
  const line = (text: string) => {
    if (barShown) process.stderr.write('\n');
    barShown = false;
    process.stderr.write(`${text}\n`);
  };
  return {
    show(event: SendBulkEvent) {
      if (event.type === 'progress') {
        const first = event.stage !== stage;
        stage = event.stage;
        if (event.stage === 'checking') {
          if (tty) bar('Checking', fileSize ? (event.bytes ?? 0) / fileSize : 0, `${number(event.rows)} rows`);
          else if (first) line(`checking ${fileName} (${(fileSize / 1e6).toFixed(1)} MB)`);
        } else {
          const total = event.total ?? 0;
          if (tty) bar('Queueing', total ? event.rows / total : 1, `${number(event.rows)} of ${number(total)} rows`);
          else if (first) line(`queueing ${number(total)} rows`);
        }
      } else if (event.type === 'created') {
        line(
          `checked ${number(event.rows)} rows; job ${event.jobId} ${event.status}${event.scheduledFor ? ` for ${event.scheduledFor}` : ''}`,
        );
        for (const warning of event.warnings) line(`warning: ${warning}`);
      }
    },
    end() {
      if (barShown) process.stderr.write('\n');
      barShown = false;
    },
  };
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    // BootstrapError is matched by name so that its module need not load for every command.
    const operatorFault = err instanceof OperatorError || err instanceof ConfigError || err?.name === 'BootstrapError';
    if (err instanceof ConfigError) console.error(`envoi: configuration error: ${err.message}`);
    else if (operatorFault) console.error(`envoi: ${err.message}`);
    else console.error(err);
    process.exit(operatorFault ? 2 : 1);
  },
);
