/** Text messages the public sent to a service's number (received_texts). */
import type { Db } from '../../platform/database/connection.ts';

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
