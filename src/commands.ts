/**
 * The operator commands that work on Envoi's data (bootstrap, outbox). Each runs either directly on an open
 * database or, when an embedded server holds the data folder, inside that server through the command bridge.
 */
import type { DbHandle } from './db/connection.ts';
import type { Config } from './config.ts';
import { SecretBox } from './domain/secret-box.ts';
import { applyBootstrap, checkBootstrapFile } from './domain/bootstrap.ts';
import { latestOutbox } from './delivery/outbox.ts';

export type CommandName = 'bootstrap' | 'outbox';

export interface CommandInput {
  bootstrap: { file: unknown };
  outbox: { limit: number; serviceId?: string };
}

export async function runCommand<K extends CommandName>(
  name: K,
  input: CommandInput[K],
  env: { config: Config; database: DbHandle; secretKey: string; afterWrite?: (serviceIds: string[]) => void },
): Promise<unknown> {
  if (name === 'bootstrap') {
    const file = checkBootstrapFile((input as CommandInput['bootstrap']).file, env.config.phoneRegion);
    const result = await applyBootstrap(env.database.db, new SecretBox(env.secretKey), file, env.config);
    env.afterWrite?.(result.services.map((s) => s.id));
    return result;
  }
  const { limit, serviceId } = input as CommandInput['outbox'];
  return latestOutbox(env.database.db, { limit, serviceId });
}
