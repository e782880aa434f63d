/**
 * Sending from the web UI. One message: to yourself or to someone else, one field per placeholder, accepted by
 * acceptNotification with the service's rules (trial mode, daily limits), refusals shown on the form in plain
 * words. A spreadsheet: uploaded (CSV, TSV or XLSX), checked by the bulk engine's RecipientListChecker with errors
 * shown per row and cell, its first rows previewed as they will be sent, then sent now or scheduled (up to 96 h)
 * as a job by the jobs engine. When the service has more than one reply-to address (email) or text message sender
 * (SMS), the person chooses which, and the choice goes to acceptNotification or the job as the API's
 * email_reply_to_id / sms_sender_id would (resolveSender turns it into the reply_to_text). Needs send_messages.
 */
import type { FastifyInstance } from 'fastify';
import type { NotifyAdminDeps } from '../admin-deps.ts';
import { acceptMultipart } from '../../../platform/ui/multipart.ts';
import { checkRoutes } from './check.ts';
import { oneMessageRoutes } from './one-message.ts';
import { UPLOAD_MAX_BYTES } from './scope.ts';
import { uploadRoutes } from './upload.ts';

export async function sendRoutes(app: FastifyInstance, deps: NotifyAdminDeps): Promise<void> {
  acceptMultipart(app, UPLOAD_MAX_BYTES + 64 * 1024);
  await oneMessageRoutes(app, deps);
  await uploadRoutes(app, deps);
  await checkRoutes(app, deps);
}
