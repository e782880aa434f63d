/**
 * A service's suppression list (suppressions): addresses and numbers it must not send to again (a hard bounce, a
 * complaint, an opt-out, or added by hand). Receipts add to it (notifications.ts's receipt statement); the delivery
 * worker asks suppressedRecipients() for a whole batch before sending; the API and UI list and clear it. Recipients are kept in
 * their normalised form (notifications.normalised_to), so every look-up is one equality. Every query is scoped by
 * service.
 */
import { sql } from 'kysely';
import type { Db } from '../../platform/database/connection.ts';
import type { SuppressionReason, TemplateType } from '../vocabulary.ts';

export interface Suppression {
  channel: TemplateType;
  recipient: string;
  reason: SuppressionReason;
  notificationId: string | null;
  createdAt: Date;
}

export interface SuppressionKey {
  serviceId: string;
  channel: TemplateType;
  recipient: string;
}

/** The key suppressedRecipients() answers with. */
export function suppressionKey(k: SuppressionKey): string {
  return `${k.serviceId}:${k.channel}:${k.recipient}`;
}

const COLUMNS = ['channel', 'recipient', 'reason', 'notification_id', 'created_at'] as const;

function toSuppression(row: {
  channel: TemplateType;
  recipient: string;
  reason: SuppressionReason;
  notification_id: string | null;
  created_at: Date;
}): Suppression {
  return {
    channel: row.channel,
    recipient: row.recipient,
    reason: row.reason,
    notificationId: row.notification_id,
    createdAt: row.created_at,
  };
}

/** Which page of a service's list: by channel, after an entry or skipping `offset` entries. */
export interface SuppressionPage {
  channel?: TemplateType;
  after?: { channel: TemplateType; recipient: string };
  offset?: number;
  limit: number;
}

/**
 * One page of a service's list, newest first. `after` continues from the last entry of the previous page
 * (entries added in the same instant are neither skipped nor repeated); an entry no longer there gives an empty page.
 * `offset` skips entries instead (the web UI's numbered pages). `search` keeps entries whose stored form contains
 * what was typed, or equals its normalised form.
 */
export async function listSuppressions(
  db: Db,
  serviceId: string,
  opts: SuppressionPage & {
    /** What was typed, and its normalised form as a recipient. */
    search?: { text: string; normalised: string };
  },
): Promise<Suppression[]> {
  let q = db
    .selectFrom('suppressions as s')
    .select(COLUMNS.map((c) => `s.${c}` as const))
    .where('s.service_id', '=', serviceId);
  if (opts.channel) q = q.where('s.channel', '=', opts.channel);
  if (opts.search) {
    const { text, normalised } = opts.search;
    // strpos, not LIKE: what was typed is matched as it is, `%` and `_` included.
    q = q.where((eb) =>
      eb.or([
        eb('s.recipient', '=', normalised),
        eb(sql<number>`strpos(s.recipient, ${text.trim().toLowerCase()})`, '>', 0),
      ]),
    );
  }
  if (opts.offset) q = q.offset(opts.offset);
  if (opts.after) {
    const { channel, recipient } = opts.after;
    q = q.where(sql<boolean>`(s.created_at, s.channel, s.recipient) < (
      SELECT o.created_at, o.channel, o.recipient FROM suppressions o
      WHERE o.service_id = ${serviceId} AND o.channel = ${channel} AND o.recipient = ${recipient})`);
  }
  const rows = await q
    .orderBy('s.created_at', 'desc')
    .orderBy('s.channel', 'desc')
    .orderBy('s.recipient', 'desc')
    .limit(opts.limit)
    .execute();
  return rows.map(toSuppression);
}

/** The entry for this recipient, or null when it is not on the list. */
export async function findSuppression(db: Db, key: SuppressionKey): Promise<Suppression | null> {
  const row = await db
    .selectFrom('suppressions')
    .select(COLUMNS)
    .where('service_id', '=', key.serviceId)
    .where('channel', '=', key.channel)
    .where('recipient', '=', key.recipient)
    .executeTakeFirst();
  return row ? toSuppression(row) : null;
}

/** Takes the recipient off the list; returns what was removed, or null when it was not on it. */
export async function clearSuppression(db: Db, key: SuppressionKey): Promise<Suppression | null> {
  const row = await db
    .deleteFrom('suppressions')
    .where('service_id', '=', key.serviceId)
    .where('channel', '=', key.channel)
    .where('recipient', '=', key.recipient)
    .returning(COLUMNS)
    .executeTakeFirst();
  return row ? toSuppression(row) : null;
}

/** Puts the recipient on the list (by hand unless told otherwise); an entry already there is kept as it is. */
export async function addSuppression(
  db: Db,
  key: SuppressionKey,
  opts: { reason?: SuppressionReason; notificationId?: string | null } = {},
): Promise<Suppression> {
  const inserted = await db
    .insertInto('suppressions')
    .values({
      service_id: key.serviceId,
      channel: key.channel,
      recipient: key.recipient,
      reason: opts.reason ?? 'manual',
      notification_id: opts.notificationId ?? null,
    })
    .onConflict((oc) => oc.doNothing())
    .returning(COLUMNS)
    .executeTakeFirst();
  if (inserted) return toSuppression(inserted);
  const existing = await findSuppression(db, key);
  if (!existing) throw new Error('suppression vanished between insert and select');
  return existing;
}

/** Which of these recipients are suppressed, as suppressionKey() strings: one query for a whole batch. */
export async function suppressedRecipients(db: Db, keys: SuppressionKey[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const { rows } = await sql<{ service_id: string; channel: TemplateType; recipient: string }>`
    SELECT s.service_id, s.channel, s.recipient
    FROM unnest(${keys.map((k) => k.serviceId)}::uuid[], ${keys.map((k) => k.channel)}::text[], ${keys.map((k) => k.recipient)}::text[])
      AS k(service_id, channel, recipient)
    JOIN suppressions s ON s.service_id = k.service_id AND s.channel = k.channel AND s.recipient = k.recipient`.execute(
    db,
  );
  return new Set(
    rows.map((r) => suppressionKey({ serviceId: r.service_id, channel: r.channel, recipient: r.recipient })),
  );
}
