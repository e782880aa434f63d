/**
 * Sink providers: "send" by writing the rendered message to the outbox table, where a person reads it with
 * `envoi outbox`. The default on a laptop, and a stand-in for a real provider in tests.
 *
 * Sends arriving in the same tick share one INSERT: the worker has many in flight, and one row per statement
 * would make the sink, not the worker, the limit.
 *
 * Inline images (a service's logo) are not stored: the HTML keeps its `cid:` reference, and the outbox page shows
 * the service's logo in its place, as a mail client would show the part.
 */
import type { Db } from '../../../platform/database/connection.ts';
import { insertOutboxRows, type NewOutboxRow } from '../../repositories/outbox.ts';
import type { EmailMessage, EmailProvider, ProviderResult, SmsMessage, SmsProvider } from './types.ts';

class OutboxWriter {
  private queue: Array<{ row: NewOutboxRow; settle: (r: ProviderResult) => void }> = [];
  private scheduled = false;

  constructor(private readonly db: Db) {}

  write(row: NewOutboxRow): Promise<ProviderResult> {
    return new Promise((settle) => {
      this.queue.push({ row, settle });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.queue.splice(0);
    try {
      const ids = await insertOutboxRows(
        this.db,
        batch.map((b) => b.row),
      );
      const byNotification = new Map(ids.map((r) => [r.notification_id, r.id]));
      for (const b of batch) {
        const id = byNotification.get(b.row.notification_id);
        b.settle({
          outcome: 'delivered',
          reference: id === undefined ? null : String(id),
          response: 'stored in outbox',
        });
      }
    } catch (err) {
      // The database is the sink's "relay": if it cannot take the message now, it may later.
      for (const b of batch)
        b.settle({ outcome: 'retry', response: `outbox insert failed: ${(err as Error).message}` });
    }
  }
}

/** The headers a real relay would receive, kept so that `envoi outbox` shows them. */
export function emailHeaders(msg: EmailMessage): Record<string, string> {
  const headers: Record<string, string> = {
    'Message-ID': msg.messageId,
    From: formatAddress(msg.from.name, msg.from.address),
    To: msg.to,
  };
  if (msg.replyTo) headers['Reply-To'] = msg.replyTo;
  if (msg.unsubscribeUrl) {
    headers['List-Unsubscribe'] = `<${msg.unsubscribeUrl}>`;
    headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
  }
  return headers;
}

function formatAddress(name: string, address: string): string {
  return `"${name.replace(/["\\]/g, '\\$&')}" <${address}>`;
}

export function createSinkEmailProvider(db: Db): EmailProvider {
  const writer = new OutboxWriter(db);
  return {
    name: 'sink',
    send(msg: EmailMessage) {
      const headers = emailHeaders(msg);
      return writer.write({
        notification_id: msg.notificationId,
        service_id: msg.serviceId,
        channel: 'email',
        recipient: msg.to,
        sender: headers.From,
        subject: msg.subject,
        body: msg.text,
        html: msg.html,
        headers: JSON.stringify(headers),
      });
    },
    close: async () => {},
  };
}

export function createSinkSmsProvider(db: Db): SmsProvider {
  const writer = new OutboxWriter(db);
  return {
    name: 'sink',
    send(msg: SmsMessage) {
      return writer.write({
        notification_id: msg.notificationId,
        service_id: msg.serviceId,
        channel: 'sms',
        recipient: msg.to,
        sender: msg.sender,
        subject: null,
        body: msg.body,
        html: null,
        headers: null,
      });
    },
    close: async () => {},
  };
}
