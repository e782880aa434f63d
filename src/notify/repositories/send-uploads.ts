/** Spreadsheets uploaded in the web UI, kept between their check and their sending. */
import type { Db } from '../../platform/database/connection.ts';
import type { SendUploadsTable } from '../schema.ts';

export interface NewSendUpload {
  id: string;
  serviceId: string;
  templateId: string;
  userId: string;
  fileName: string;
  format: SendUploadsTable['file_format'];
  bytes: Buffer;
}

/** Removes the uploads made before `before`, whoever made them. */
export async function deleteSendUploadsBefore(db: Db, before: Date): Promise<void> {
  await db.deleteFrom('send_uploads').where('created_at', '<', before).execute();
}

export async function insertSendUpload(db: Db, upload: NewSendUpload): Promise<void> {
  await db
    .insertInto('send_uploads')
    .values({
      id: upload.id,
      service_id: upload.serviceId,
      template_id: upload.templateId,
      user_id: upload.userId,
      file_name: upload.fileName,
      file_format: upload.format,
      bytes: upload.bytes,
    })
    .execute();
}

/** One upload, only for the person who made it, with the service and template they made it for; or null. */
export async function findSendUpload(
  db: Db,
  key: { id: string; serviceId: string; templateId: string; userId: string },
) {
  return (
    (await db
      .selectFrom('send_uploads')
      .selectAll()
      .where('id', '=', key.id)
      .where('service_id', '=', key.serviceId)
      .where('template_id', '=', key.templateId)
      .where('user_id', '=', key.userId)
      .executeTakeFirst()) ?? null
  );
}

export async function deleteSendUpload(db: Db, serviceId: string, id: string): Promise<void> {
  await db.deleteFrom('send_uploads').where('id', '=', id).where('service_id', '=', serviceId).execute();
}
