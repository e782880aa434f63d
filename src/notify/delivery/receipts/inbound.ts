/**
 * Text messages from the public (Twilio webhooks, End User Messaging two-way SMS through SNS): matched to the
 * service that owns the number they were sent to, stored for GET /v2/received-text-messages, and queued for the
 * service's inbound callback in the same statement.
 */
import { sql } from 'kysely';
import type { Db } from '../../../platform/database/connection.ts';
import { normaliseRecipient } from '../../../platform/recipients.ts';
import type { Logger } from '../../../platform/queue/background.ts';
import { queueInboundCallbacks } from '../callbacks/queue.ts';

export interface InboundText {
  /** The number the member of the public wrote to: a service's inbound_number. */
  to: string;
  /** The member of the public's number. */
  from: string;
  content: string;
  /** When the provider received it. */
  receivedAt: Date;
  /** The provider's id of the text (Twilio MessageSid, End User Messaging inboundMessageId), if it gives one. */
  reference?: string | null;
}

/** E.164 where the number parses, as inbound_number is stored; short codes and sender ids as they came. */
function asStored(number: string): string {
  try {
    return normaliseRecipient('sms', number, { defaultRegion: 'CA' });
  } catch {
    return number.trim();
  }
}

/**
 * Stores the texts whose number belongs to a service; the others are logged and dropped. A text whose provider
 * reference is already stored is a webhook delivered again: it is not stored, nor called back, twice. Returns how
 * many were stored.
 */
export async function storeInboundTexts(db: Db, texts: InboundText[], log?: Logger): Promise<number> {
  if (texts.length === 0) return 0;
  const to = texts.map((t) => asStored(t.to));
  const { rows } = await sql<{ kept: number }>`
    WITH incoming AS (
      SELECT * FROM unnest(${to}::text[], ${texts.map((t) => asStored(t.from))}::text[],
                           ${texts.map((t) => t.content)}::text[], ${texts.map((t) => t.receivedAt.toISOString())}::timestamptz[],
                           ${texts.map((t) => t.reference || null)}::text[])
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
  const kept = rows[0]?.kept ?? 0;
  if (kept < texts.length) {
    log?.warn(
      { received: texts.length, kept, numbers: [...new Set(to)] },
      'inbound text messages already stored, or to a number no service owns, were dropped',
    );
  }
  return kept;
}
