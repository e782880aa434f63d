/** The JSON shapes of the v2 API's responses (notify-api-v2.md §2.5, §2.8, §2.11). */
import type { TemplateRecord } from '../../sending/service-directory.ts';
import { placeholderNames } from '../../template-language/index.ts';
import type { JobView } from '../../jobs/jobs.ts';
import { formatDate, STATUS_DESCRIPTION } from '../../sending/statuses.ts';

// Routes and other presenters import it from here.
export { formatDate };

const COMPLETED = new Set([
  'sent',
  'delivered',
  'failed',
  'technical-failure',
  'temporary-failure',
  'permanent-failure',
  'returned-letter',
  'cancelled',
  'validation-failed',
]);

export interface NotificationRow {
  id: string;
  client_reference: string | null;
  notification_type: 'email' | 'sms';
  to: string;
  status: string;
  template_id: string;
  template_version: number;
  body: string;
  subject: string | null;
  created_at: Date;
  sent_at: Date | null;
  updated_at: Date | null;
  scheduled_for: Date | null;
  one_click_unsubscribe_url: string | null;
  billable_units: number;
  provider_response: string | null;
  created_by_name?: string | null;
}

export function presentNotification(n: NotificationRow, root: string, smsRate: number) {
  const isSms = n.notification_type === 'sms';
  const costReady = !isSms || !(n.status === 'created' || n.billable_units === 0);
  return {
    id: n.id,
    reference: n.client_reference,
    email_address: isSms ? null : n.to,
    phone_number: isSms ? n.to : null,
    line_1: null,
    line_2: null,
    line_3: null,
    line_4: null,
    line_5: null,
    line_6: null,
    postcode: null,
    type: n.notification_type,
    status: n.status,
    status_description: STATUS_DESCRIPTION[n.status] ?? n.status,
    provider_response: n.provider_response,
    template: {
      id: n.template_id,
      version: n.template_version,
      uri: `${root}v2/template/${n.template_id}/version/${n.template_version}`,
    },
    body: n.body,
    subject: isSms ? null : n.subject,
    created_at: formatDate(n.created_at),
    created_by_name: n.created_by_name ?? null,
    sent_at: formatDate(n.sent_at),
    completed_at: COMPLETED.has(n.status) ? formatDate(n.updated_at ?? n.sent_at ?? n.created_at) : null,
    scheduled_for: formatDate(n.scheduled_for),
    postage: null,
    one_click_unsubscribe_url: n.one_click_unsubscribe_url,
    is_cost_data_ready: costReady,
    cost_in_pounds: !isSms ? 0.0 : costReady ? round(n.billable_units * smsRate) : null,
    cost_details:
      !isSms || !costReady
        ? {}
        : { billable_sms_fragments: n.billable_units, international_rate_multiplier: 1, sms_rate: smsRate },
  };
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

/** GC Notify's JobSchema dates (marshmallow): ISO with `+00:00` rather than `Z`. */
export function formatJobDate(date: Date | null | undefined): string | null {
  if (!date) return null;
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000+00:00');
}

/** `{"data": <this>}` of POST /v2/notifications/bulk: GC Notify's JobSchema keys. */
export function presentJob(job: JobView) {
  return {
    api_key: job.apiKey ? { id: job.apiKey.id, key_type: job.apiKey.keyType, name: job.apiKey.name } : null,
    archived: job.archived,
    created_at: formatJobDate(job.createdAt),
    created_by: job.createdBy,
    id: job.id,
    job_status: job.status,
    notification_count: job.notificationCount,
    original_file_name: job.name,
    processing_finished: formatJobDate(job.processingFinished),
    processing_started: formatJobDate(job.processingStarted),
    scheduled_for: formatJobDate(job.scheduledFor),
    sender_id: job.senderId,
    service: job.serviceId,
    service_name: { name: job.serviceName },
    template: job.templateId,
    template_type: job.templateType,
    template_version: job.templateVersion,
    updated_at: formatJobDate(job.updatedAt),
  };
}

export function presentTemplate(t: TemplateRecord) {
  const texts = t.type === 'email' ? [t.subject ?? '', t.content] : [t.content];
  return {
    id: t.id,
    type: t.type,
    created_at: formatDate(t.createdAt),
    updated_at: formatDate(t.updatedAt),
    created_by: t.createdBy,
    version: t.version,
    body: t.content,
    subject: t.type === 'email' ? t.subject : null,
    name: t.name,
    personalisation: Object.fromEntries(placeholderNames(...texts).map((name) => [name, { required: true }])),
    postage: null,
    letter_contact_block: null,
  };
}
