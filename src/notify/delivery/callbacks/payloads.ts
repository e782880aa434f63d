/**
 * Callback bodies (notify-api-v2.md §8), built when the callback is sent: from the subject row (a notification,
 * a received text or a complaint) and, for delivery statuses, the status snapshot the queued row kept, so a
 * receiver hears about each status in turn even if the notification has moved on since.
 */
import type { Db } from '../../../platform/database/connection.ts';
import type { CallbackType } from '../../vocabulary.ts';
import { findComplaints, findNotificationSubjects, findReceivedTexts } from '../../repositories/callback-subjects.ts';
import { formatDate, STATUS_DESCRIPTION } from '../../sending/statuses.ts';

/** The columns of callback_deliveries a payload is built from. */
export interface QueuedCallback {
  id: string;
  service_id: string;
  callback_type: CallbackType;
  subject_id: string;
  status: string | null;
  provider_response: string | null;
  status_at: Date | null;
}

export interface DeliveryStatusPayload {
  id: string;
  reference: string | null;
  to: string;
  status: string;
  created_at: string | null;
  completed_at: string | null;
  sent_at: string | null;
  notification_type: string;
  template_id: string;
  template_version: number;
  status_description: string;
  provider_response: string | null;
}

export interface InboundSmsPayload {
  id: string;
  source_number: string;
  destination_number: string;
  message: string;
  date_received: string | null;
}

export interface ComplaintPayload {
  notification_id: string;
  complaint_id: string;
  reference: string | null;
  to: string | null;
  complaint_date: string | null;
}

export type CallbackPayload = DeliveryStatusPayload | InboundSmsPayload | ComplaintPayload;

interface NotificationFields {
  id: string;
  service_id: string;
  client_reference: string | null;
  to: string;
  status: string;
  created_at: Date;
  sent_at: Date | null;
  notification_type: string;
  template_id: string;
  template_version: number;
}

export function deliveryStatusPayload(n: NotificationFields, queued: QueuedCallback): DeliveryStatusPayload {
  // The snapshot is what the status was when the callback was queued; the notification may be further on now.
  const status = queued.status ?? n.status;
  return {
    id: n.id,
    reference: n.client_reference,
    to: n.to,
    status,
    created_at: formatDate(n.created_at),
    completed_at: formatDate(queued.status_at),
    sent_at: formatDate(n.sent_at),
    notification_type: n.notification_type,
    template_id: n.template_id,
    template_version: Number(n.template_version),
    status_description: STATUS_DESCRIPTION[status] ?? status,
    provider_response: queued.provider_response,
  };
}

export function inboundSmsPayload(t: {
  id: string;
  user_number: string;
  notify_number: string;
  content: string;
  provider_date: Date | null;
  created_at: Date;
}): InboundSmsPayload {
  return {
    id: t.id,
    source_number: t.user_number,
    destination_number: t.notify_number,
    message: t.content,
    date_received: formatDate(t.provider_date ?? t.created_at),
  };
}

/** `notification` is null once retention has deleted it: the complaint itself is still worth reporting. */
export function complaintPayload(
  c: { id: string; notification_id: string; complaint_date: Date | null; created_at: Date },
  notification: { client_reference: string | null; to: string } | null,
): ComplaintPayload {
  return {
    notification_id: c.notification_id,
    complaint_id: c.id,
    reference: notification?.client_reference ?? null,
    to: notification?.to ?? null,
    complaint_date: formatDate(c.complaint_date ?? c.created_at),
  };
}

/**
 * Payloads for a batch of queued callbacks, keyed by callback_deliveries.id, in a few queries per batch. A row is
 * missing from the result when its subject is gone (retention deleted it): there is nothing left to report.
 * Subjects are matched on their service too, so a row can never carry another service's data.
 */
export async function buildPayloads(db: Db, queued: readonly QueuedCallback[]): Promise<Map<string, CallbackPayload>> {
  const payloads = new Map<string, CallbackPayload>();
  const ofType = (type: CallbackType) => queued.filter((q) => q.callback_type === type);
  const key = (serviceId: string, id: string) => `${serviceId}:${id}`;

  const statuses = ofType('delivery_status');
  const complaintsQueued = ofType('complaint');
  const texts = ofType('inbound_sms');

  const complaints = complaintsQueued.length
    ? await findComplaints(db, unique(complaintsQueued.map((q) => q.subject_id)))
    : [];
  const complaintById = new Map(complaints.map((c) => [key(c.service_id, c.id), c]));

  const notificationIds = unique([...statuses.map((q) => q.subject_id), ...complaints.map((c) => c.notification_id)]);
  const notifications = notificationIds.length ? await findNotificationSubjects(db, notificationIds) : [];
  const notificationById = new Map(notifications.map((n) => [key(n.service_id, n.id), n]));

  const received = texts.length ? await findReceivedTexts(db, unique(texts.map((q) => q.subject_id))) : [];
  const textById = new Map(received.map((t) => [key(t.service_id, t.id), t]));

  for (const q of statuses) {
    const n = notificationById.get(key(q.service_id, q.subject_id));
    if (n) payloads.set(q.id, deliveryStatusPayload(n, q));
  }
  for (const q of texts) {
    const t = textById.get(key(q.service_id, q.subject_id));
    if (t) payloads.set(q.id, inboundSmsPayload(t));
  }
  for (const q of complaintsQueued) {
    const c = complaintById.get(key(q.service_id, q.subject_id));
    if (c) payloads.set(q.id, complaintPayload(c, notificationById.get(key(c.service_id, c.notification_id)) ?? null));
  }
  return payloads;
}

function unique(ids: string[]): string[] {
  return [...new Set(ids)];
}
