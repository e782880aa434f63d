/**
 * Runs a data command (commands.ts) in the running embedded server if there is one, through the command bridge,
 * because PGlite admits one process per data folder; else on the database directly.
 */
import type { Config } from '../platform/config.ts';
import { runningServer } from '../platform/runtime.ts';
import { MIGRATIONS } from '../migrations.ts';
import type { CommandInput, CommandName } from './commands.ts';
import { OperatorError } from './operator-error.ts';

export async function dataCommand<K extends CommandName>(
  config: Config,
  name: K,
  input: CommandInput[K],
): Promise<unknown> {
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
    import('../platform/runtime.ts'),
    import('./commands.ts'),
  ]);
  const { database, secretKey } = await openState(config, MIGRATIONS);
  try {
    return await runCommand(name, input, { config, database, secretKey });
  } finally {
    await database.close();
  }
}
