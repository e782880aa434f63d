/**
 * Text messages from the public (Twilio webhooks, End User Messaging two-way SMS through SNS): matched to the
 * service that owns the number they were sent to, stored for GET /v2/received-text-messages, and queued for the
 * service's inbound callback in the same statement.
 */
import type { Db } from '../../../platform/database/connection.ts';
import { normaliseRecipient } from '../../../platform/recipients.ts';
import type { Logger } from '../../../platform/queue/background.ts';
import { insertInboundTexts } from '../../repositories/received-texts.ts';

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
  const kept = await insertInboundTexts(
    db,
    texts.map((t, i) => ({
      notifyNumber: to[i]!,
      userNumber: asStored(t.from),
      content: t.content,
      receivedAt: t.receivedAt,
      reference: t.reference || null,
    })),
  );
  if (kept < texts.length) {
    log?.warn(
      { received: texts.length, kept, numbers: [...new Set(to)] },
      'inbound text messages already stored, or to a number no service owns, were dropped',
    );
  }
  return kept;
}
