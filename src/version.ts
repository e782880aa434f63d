/** Envoi's version, as package.json names it (read once; light enough for `envoi help`). */
import { readFileSync } from 'node:fs';

export const APP_VERSION: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;
