/**
 * A service's templates: folders (listed first), new templates (email or text message), edits (each a new
 * version), copies, archiving, version history, the formatting guide, and previews with sample personalisation.
 * The email preview is the real rendered email in a sandboxed frame from its own route; text messages are shown as
 * on a phone with their character and part count. Viewing needs membership; changing needs manage_templates.
 */
import type { FastifyInstance } from 'fastify';
import type { NotifyAdminDeps } from '../admin-deps.ts';
import { editorRoutes } from './editor.ts';
import { folderRoutes } from './folders.ts';
import { previewRoutes } from './previews.ts';
import { templatePageRoutes } from './template-pages.ts';

export async function templateRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  await folderRoutes(app, deps);
  await editorRoutes(app, deps);
  await templatePageRoutes(app, deps);
  await previewRoutes(app, deps);
}
