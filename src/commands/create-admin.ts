/** envoi create-admin --email EMAIL [--name NAME]: a platform admin, and a one-time link to choose the password. */
import { parseArgs } from 'node:util';
import type { Config } from '../platform/config.ts';
import { runningServer } from '../platform/runtime.ts';
import { MIGRATIONS } from '../migrations.ts';
import { OperatorError } from './operator-error.ts';

export async function createAdminCommand(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { email: { type: 'string' }, name: { type: 'string' } } });
  if (!values.email) throw new OperatorError('usage: envoi create-admin --email EMAIL [--name NAME]');
  const holder = runningServer(config);
  if (holder) {
    throw new OperatorError(
      `Envoi is running on the embedded database in ${config.dataDir} (pid ${holder.pid}): stop it and run create-admin again, ` +
        `or, while no account exists, create the first admin at ${holder.url}/`,
    );
  }
  // Only what an account needs: the services of the roles (app-services.ts) would take seconds more to load.
  const [{ openState }, { Accounts, AccountError }, { SecretBox }] = await Promise.all([
    import('../platform/runtime.ts'),
    import('../platform/accounts/accounts.ts'),
    import('../platform/secret-box.ts'),
  ]);
  const { database, secretKey } = await openState(config, MIGRATIONS);
  try {
    const accounts = new Accounts(database.db, new SecretBox(secretKey, config.previousSecretKeys), {
      signupDomains: config.signupDomains,
    });
    const email = values.email.trim();
    const { account, token } = await accounts
      .createAdmin({ email, name: values.name?.trim() || email.slice(0, email.indexOf('@')) })
      .catch((err: unknown) => {
        if (err instanceof AccountError) throw new OperatorError(err.message);
        throw err;
      });
    console.log(
      `${account.email} is a platform admin. To choose a password, open this link within 72 hours (it works once):`,
    );
    console.log(`${config.publicUrl}/set-password/${token}`);
  } finally {
    await database.close();
  }
  return 0;
}
