import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MigrationSource } from '../platform/database/migrate.ts';

/** Notify's tables, and its columns on the platform's services table. */
export const notifyMigrations: MigrationSource = {
  product: 'notify',
  dir: path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations'),
};
