/**
 * envoi start | api | worker | migrate | bootstrap FILE | outbox — the one entry point for every role and
 * operator command: reads the command line and hands it to the command (src/commands/). Every command works on
 * both databases; on the embedded one, commands that need data go through a running server when there is one,
 * because PGlite admits one process per data folder.
 */
import { loadConfig, ConfigError } from './platform/config.ts';
import { APP_VERSION } from './version.ts';
import { OperatorError } from './commands/operator-error.ts';
import { serve } from './commands/serve.ts';
import { migrateCommand } from './commands/migrate.ts';
import { bootstrapCommand } from './commands/bootstrap.ts';
import { outboxCommand } from './commands/outbox.ts';
import { sendBulkCommand } from './commands/send-bulk.ts';
import { createAdminCommand } from './commands/create-admin.ts';
import { rotateSecretKeyCommand } from './commands/rotate-secret-key.ts';

// Heavy modules (database, HTTP server, providers) load inside the commands that need them, so that `help`
// and configuration errors answer at once.

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
  rotate-secret-key     seal every secret at rest again under ENVOI_SECRET_KEY, opening
                        them with ENVOI_SECRET_KEY_PREVIOUS (see docs/operations.md)
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
    case 'rotate-secret-key':
      return rotateSecretKeyCommand(config, rest);
    default:
      throw new OperatorError(`unknown command "${command}"\n\n${USAGE}`);
  }
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
