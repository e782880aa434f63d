/** envoi bootstrap FILE.json: creates or updates services from a file; prints ids and API keys as JSON. */
import { readFile } from 'node:fs/promises';
import type { Config } from '../platform/config.ts';
import { dataCommand } from './data-command.ts';
import { OperatorError } from './operator-error.ts';

export async function bootstrapCommand(config: Config, args: string[]): Promise<number> {
  const file = args[0];
  if (!file) throw new OperatorError('usage: envoi bootstrap FILE.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new OperatorError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new OperatorError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  const result = await dataCommand(config, 'bootstrap', { file: data });
  console.log(JSON.stringify(result, null, 2));
  return 0;
}
