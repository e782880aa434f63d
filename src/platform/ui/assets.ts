/**
 * Static files of the UI: the GC Design System tokens and Envoi's stylesheet (scripts, such as the security-key
 * ceremony, go here too). The URL carries a version, so they are cached for a year and a release changes the URL.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';

/** The version in every asset's URL: change it when an asset changes, so browsers fetch the new one. */
export const ASSET_VERSION = '1';

const require = createRequire(import.meta.url);

const FILES: Record<string, { type: string; load: () => Buffer }> = {
  'tokens.css': {
    type: 'text/css; charset=utf-8',
    load: () => readFileSync(require.resolve('@cdssnc/gcds-tokens/build/web/css/tokens.css')),
  },
  'envoi.css': {
    type: 'text/css; charset=utf-8',
    load: () => readFileSync(new URL('./assets/envoi.css', import.meta.url)),
  },
  'templates.css': {
    type: 'text/css; charset=utf-8',
    load: () => readFileSync(new URL('./assets/templates.css', import.meta.url)),
  },
  'template-editor.js': {
    type: 'text/javascript; charset=utf-8',
    load: () => readFileSync(new URL('./assets/template-editor.js', import.meta.url)),
  },
  'security-key.js': {
    type: 'text/javascript; charset=utf-8',
    load: () => readFileSync(new URL('./assets/security-key.js', import.meta.url)),
  },
  'insights.css': {
    type: 'text/css; charset=utf-8',
    load: () => readFileSync(new URL('./assets/insights.css', import.meta.url)),
  },
};

export async function assetRoutes(app: FastifyInstance): Promise<void> {
  const cache = new Map<string, Buffer>();
  app.get<{ Params: { version: string; file: string } }>('/assets/:version/:file', async (request, reply) => {
    const file = FILES[request.params.file];
    if (!file) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
    let body = cache.get(request.params.file);
    if (!body) {
      body = file.load();
      cache.set(request.params.file, body);
    }
    return reply
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('x-content-type-options', 'nosniff')
      .type(file.type)
      .send(body);
  });
}
