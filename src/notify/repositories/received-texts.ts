/** Text messages the public sent to a service's number (received_texts). */
import { sql } from 'kysely';
import type { Db } from '../../platform/database/connection.ts';
import { queueInboundCallbacks } from './callback-deliveries.ts';

export interface ReceivedText {
  serviceId: string;
  notifyNumber: string;
  userNumber: string;
  content: string;
}

/** Stores the text unless the service already has one from the same number with the same content. */
export async function insertReceivedTextOnce(db: Db, text: ReceivedText): Promise<void> {
  const seen = await db
    .selectFrom('received_texts')
    .select('id')
    .where('service_id', '=', text.serviceId)
    .where('user_number', '=', text.userNumber)
    .where('content', '=', text.content)
    .executeTakeFirst();
  if (seen) return;
  await db
    .insertInto('received_texts')
    .values({
      service_id: text.serviceId,
      notify_number: text.notifyNumber,
      user_number: text.userNumber,
      content: text.content,
    })
    .execute();
}

/** A text from the public as a provider's webhook brought it, numbers in their stored form. */
export interface InboundTextRow {
  notifyNumber: string;
  userNumber: string;
  content: string;
  receivedAt: Date;
  reference: string | null;
}

/**
 * Stores the texts sent to a service's inbound number, skipping those whose provider reference is already stored
 * (a webhook delivered again), and queues the services' inbound callbacks in the same statement. Resolves how many
 * were stored.
 */
export async function insertInboundTexts(db: Db, texts: readonly InboundTextRow[]): Promise<number> {
  const { rows } = await sql<{ kept: number }>`
    WITH incoming AS (
      SELECT * FROM unnest(${texts.map((t) => t.notifyNumber)}::text[], ${texts.map((t) => t.userNumber)}::text[],
                           ${texts.map((t) => t.content)}::text[], ${texts.map((t) => t.receivedAt.toISOString())}::timestamptz[],
                           ${texts.map((t) => t.reference)}::text[])
        AS i(notify_number, user_number, content, provider_date, provider_reference)
    ),
    stored AS (
      INSERT INTO received_texts (service_id, notify_number, user_number, content, provider_date, provider_reference)
      SELECT s.id, i.notify_number, i.user_number, i.content, i.provider_date, i.provider_reference
      FROM incoming i JOIN services s ON s.inbound_number = i.notify_number
      ON CONFLICT (service_id, provider_reference) WHERE provider_reference IS NOT NULL DO NOTHING
      RETURNING id, service_id
    ),
    queued AS (${queueInboundCallbacks('stored')})
    SELECT count(*)::int AS kept FROM stored`.execute(db);
  return rows[0]?.kept ?? 0;
}
