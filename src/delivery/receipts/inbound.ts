/**
 * Text messages from the public (Twilio webhooks, End User Messaging two-way SMS through SNS): matched to the
 * service that owns the number they were sent to, stored for GET /v2/received-text-messages, and queued for the
 * service's inbound callback in the same statement.
 */
import { sql } from 'kysely';
import type { Db } from '../../db/connection.ts';
import { normaliseRecipient } from '../../domain/recipients.ts';
import type { Logger } from '../../background.ts';
import { queueInboundCallbacks } from '../callbacks/queue.ts';

export interface InboundText {
  /** The number the member of the public wrote to: a service's inbound_number. */
  to: string;
  /** The member of the public's number. */
  from: string;
  content: string;
  /** When the provider received it. */
  receivedAt: Date;
}

/** E.164 where the number parses, as inbound_number is stored; short codes and sender ids as they came. */
function asStored(number: string): string {
  try {
    return normaliseRecipient('sms', number, { defaultRegion: 'CA' });
  } catch {
    return number.trim();
  }
}

/** Stores the texts whose number belongs to a service; the others are logged and dropped. Returns how many were kept. */
export async function storeInboundTexts(db: Db, texts: InboundText[], log?: Logger): Promise<number> {
  if (texts.length === 0) return 0;
  const to = texts.map((t) => asStored(t.to));
  const { rows } = await sql<{ kept: number }>`
    WITH incoming AS (
      SELECT * FROM unnest(${to}::text[], ${texts.map((t) => asStored(t.from))}::text[],
                           ${texts.map((t) => t.content)}::text[], ${texts.map((t) => t.receivedAt.toISOString())}::timestamptz[])
        AS i(notify_number, user_number, content, provider_date)
    ),
    stored AS (
      INSERT INTO received_texts (service_id, notify_number, user_number, content, provider_date)
      SELECT s.id, i.notify_number, i.user_number, i.content, i.provider_date
      FROM incoming i JOIN services s ON s.inbound_number = i.notify_number
      RETURNING id, service_id
    ),
    queued AS (${queueInboundCallbacks('stored')})
    SELECT count(*)::int AS kept FROM stored`.execute(db);
  const kept = rows[0]?.kept ?? 0;
  if (kept < texts.length) {
    log?.warn({ received: texts.length, kept, numbers: [...new Set(to)] }, 'inbound text messages to a number no service owns were dropped');
  }
  return kept;
}
