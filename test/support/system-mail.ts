/**
 * The messages Envoi itself sends to people (sign-in codes, confirmation and reset links), read from the sink's
 * outbox as a person reads their inbox: each message once, newest unread first for its recipient.
 */
import type { Db } from '../../src/platform/database/connection.ts';
import { latestOutbox, type OutboxEntry } from '../../src/notify/delivery/outbox.ts';
import { SYSTEM_SERVICE_ID } from '../../src/platform/accounts/account-messages.ts';
import { waitFor } from '../delivery/fixtures.ts';

export function systemInbox(db: () => Db): { next(to: string): Promise<OutboxEntry> } {
  const seen = new Set<number>();
  return {
    /** The next message sent to `to` that has not been read yet; waits for it. */
    next: (to) =>
      waitFor(async () => {
        const entries = await latestOutbox(db(), { limit: 100, serviceId: SYSTEM_SERVICE_ID });
        const found = entries.reverse().find((e) => e.recipient.toLowerCase() === to.toLowerCase() && !seen.has(e.id));
        if (found) seen.add(found.id);
        return found;
      }, `a message to ${to}`),
  };
}

/** The six-digit code in a message. */
export const codeIn = (m: OutboxEntry): string => /\b(\d{6})\b/.exec(m.body)![1]!;

/** The link in a message whose path starts with `path`. */
export const linkIn = (m: OutboxEntry, path: string): string =>
  new RegExp(`https?://[^\\s)\\]]+/${path}/[\\w-]+`).exec(m.body)![0];
