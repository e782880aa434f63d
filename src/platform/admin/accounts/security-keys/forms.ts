/**
 * The security-key pages' form handling: what the browser's script reports, the message for each failure, and the
 * checks of a new key's name.
 */
import type { FieldError } from '../../../ui/layout.ts';
import type { UiContext } from '../../../ui/context.ts';
import { KEY_NAME_MAX, MAX_KEYS, type SecurityKey } from '../../../accounts/security-keys.ts';
/** What the script reports when the browser gave no answer (the DOMException's name, sorted). */
export type BrowserOutcome = 'cancelled' | 'already-registered' | 'failed';
export type CeremonyError = BrowserOutcome | 'sign-in-cancelled' | 'unknown-key' | 'expired';

export const ERROR_KEYS: Record<CeremonyError, string> = {
  cancelled: 'securityKeys.error.cancelled',
  'sign-in-cancelled': 'securityKeys.error.signInCancelled',
  'already-registered': 'securityKeys.error.alreadyRegistered',
  failed: 'securityKeys.error.failed',
  'unknown-key': 'securityKeys.error.unknownKey',
  expired: 'securityKeys.error.expired',
};

export function browserOutcome(value: string | undefined): BrowserOutcome | null {
  if (!value) return null;
  return value === 'cancelled' || value === 'already-registered' ? value : 'failed';
}

/** What is wrong with the name of a new key, given the keys one already has. */
export function keyNameErrors(ui: UiContext, name: string, keys: readonly SecurityKey[]): FieldError[] {
  if (!name) return [{ field: 'name', message: ui.t('securityKeys.name.missing') }];
  if ([...name].length > KEY_NAME_MAX)
    return [{ field: 'name', message: ui.t('securityKeys.name.tooLong', { max: KEY_NAME_MAX }) }];
  if (keys.some((k) => k.name.toLowerCase() === name.toLowerCase()))
    return [{ field: 'name', message: ui.t('securityKeys.name.taken') }];
  if (keys.length >= MAX_KEYS)
    return [{ field: 'name', message: ui.t('securityKeys.name.tooMany', { max: MAX_KEYS }) }];
  return [];
}
