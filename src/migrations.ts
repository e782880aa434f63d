import { platformMigrations } from './platform/database/migrate.ts';
import { notifyMigrations } from './notify/migrations.ts';

/** Every product's migrations, the platform's first: what `envoi migrate` and every start apply. */
export const MIGRATIONS = [platformMigrations, notifyMigrations];
