/** The security-key pages' form handling: what the browser's script reports, and the message for each failure. */
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
