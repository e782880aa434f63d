/**
 * The email addresses of accounts: which look like one (a loose check, the mailbox proves the rest), and which may
 * sign up.
 */

/** An email address's domain is allowed when it is one of `domains` or below one (x.gc.ca for gc.ca). */
export function emailDomainAllowed(email: string, domains: readonly string[]): boolean {
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
  return domains.some((d) => domain === d.toLowerCase() || domain.endsWith(`.${d.toLowerCase()}`));
}

export function normaliseAccountEmail(email: string): string {
  return email.trim();
}

export function looksLikeEmail(email: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) && email.length <= 320;
}
