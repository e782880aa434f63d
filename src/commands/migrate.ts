/** envoi migrate: applies the migrations and exits (a running embedded server has applied them already). */
import type { Config } from '../platform/config.ts';
import { runningServer } from '../platform/runtime.ts';
import { MIGRATIONS } from '../migrations.ts';

export async function migrateCommand(config: Config): Promise<number> {
  const holder = runningServer(config);
  if (holder) {
    console.log(
      `Envoi is running on this data folder (pid ${holder.pid}); it applied every migration when it started.`,
    );
    return 0;
  }
  const { openState } = await import('../platform/runtime.ts');
  const { database, migrated } = await openState(config, MIGRATIONS);
  await database.close();
  console.log(migrated.length ? `applied: ${migrated.join(', ')}` : 'the database is up to date');
  return 0;
}
