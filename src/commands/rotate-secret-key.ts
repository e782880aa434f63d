/**
 * envoi rotate-secret-key: seals every secret at rest again under ENVOI_SECRET_KEY, opening each with it or with
 * one of ENVOI_SECRET_KEY_PREVIOUS (docs/operations.md, "Rotating ENVOI_SECRET_KEY"). Exits 1 if any secret could
 * be opened by none of the keys, so that the previous key is not dropped while something still needs it.
 */
import type { Config } from '../platform/config.ts';
import { dataCommand } from './data-command.ts';
import { OperatorError } from './operator-error.ts';
import type { ResealCount } from './reseal-secrets.ts';

export async function rotateSecretKeyCommand(config: Config, args: string[]): Promise<number> {
  if (args.length > 0) throw new OperatorError(`rotate-secret-key takes no arguments, got "${args.join(' ')}"`);
  const counts = (await dataCommand(config, 'rotate-secret-key', {})) as ResealCount[];
  let unreadable = 0;
  for (const c of counts) {
    console.log(
      `${c.column}: ${c.resealed} sealed again, ${c.current} already under the current key` +
        (c.changed ? `, ${c.changed} changed meanwhile` : '') +
        (c.unreadable ? `, ${c.unreadable} UNREADABLE` : ''),
    );
    unreadable += c.unreadable;
  }
  if (unreadable > 0) {
    console.error(
      `envoi: ${unreadable} secret(s) could be opened neither with ENVOI_SECRET_KEY nor with ENVOI_SECRET_KEY_PREVIOUS: ` +
        'add the key that sealed them to ENVOI_SECRET_KEY_PREVIOUS and run this again',
    );
    return 1;
  }
  console.log(
    config.previousSecretKeys.length > 0
      ? 'Every secret is sealed under ENVOI_SECRET_KEY: ENVOI_SECRET_KEY_PREVIOUS can now be removed.'
      : 'Every secret is sealed under ENVOI_SECRET_KEY.',
  );
  return 0;
}
