/**
 * Kysely's view of Notify's tables in migrations/ (keep in step with the SQL): added to the platform's Database,
 * and Notify's columns added to its services table, by augmenting the platform's schema.
 */
import type { ColumnType, Generated } from 'kysely';
import type { Json, NullableTimestamp, Timestamp } from '../platform/database/schema.ts';
import type {
  CallbackType,
  EmailBranding,
  JobStatus,
  KeyType,
  SuppressionReason,
  TemplateCategory,
  TemplateType,
} from './vocabulary.ts';

declare module '../platform/database/schema.ts' {
  interface ServicesTable {
    restricted: Generated<boolean>;
    permissions: ColumnType<string[], string[] | undefined, string[]>;
    email_message_limit: Generated<number>;
    sms_message_limit: Generated<number>;
    international_sms_message_limit: Generated<number>;
    rate_limit: Generated<number>;
    email_sender_local_part: string;
    inbound_number: string | null;
    data_retention_days: Generated<number>;
    max_rows: Generated<number>;
    webhook_secret_sealed: string | null;
    email_sender_name: ColumnType<string | null, string | null | undefined, string | null>;
    email_branding: ColumnType<EmailBranding, EmailBranding | undefined, EmailBranding>;
    go_live_at: NullableTimestamp;
  }

  interface Database {
    guest_list: GuestListTable;
    email_reply_to: EmailReplyToTable;
    sms_senders: SmsSendersTable;
    templates: TemplatesTable;
    template_history: TemplateHistoryTable;
    template_folders: TemplateFoldersTable;
    send_uploads: SendUploadsTable;
    api_keys: ApiKeysTable;
    notifications: NotificationsTable;
    received_texts: ReceivedTextsTable;
    daily_send_counts: DailySendCountsTable;
    api_rate_counters: ApiRateCountersTable;
    outbox: OutboxTable;
    jobs: JobsTable;
    job_files: JobFilesTable;
    suppressions: SuppressionsTable;
    complaints: ComplaintsTable;
    service_callbacks: ServiceCallbacksTable;
    callback_deliveries: CallbackDeliveriesTable;
    notification_stats_daily: NotificationStatsDailyTable;
    notification_rollups: NotificationRollupsTable;
    api_requests: ApiRequestsTable;
    email_logos: EmailLogosTable;
    go_live_requests: GoLiveRequestsTable;
    idempotency_keys: IdempotencyKeysTable;
  }
}

export interface EmailLogosTable {
  service_id: string;
  content_type: 'image/png' | 'image/jpeg';
  bytes: Uint8Array;
  alt_en: string;
  alt_fr: string;
  created_at: Timestamp;
}

export interface GoLiveRequestsTable {
  id: Generated<string>;
  service_id: string;
  requested_by_id: string | null;
  main_use: string;
  expected_daily_email: number;
  expected_daily_sms: number;
  state: ColumnType<
    'pending' | 'approved' | 'declined',
    'pending' | 'approved' | 'declined' | undefined,
    'pending' | 'approved' | 'declined'
  >;
  decided_by_id: ColumnType<string | null, string | null | undefined, string | null>;
  decided_at: NullableTimestamp;
  decline_reason: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: Timestamp;
}

export interface GuestListTable {
  id: Generated<string>;
  service_id: string;
  recipient_type: 'email' | 'sms';
  recipient: string;
}

export interface EmailReplyToTable {
  id: Generated<string>;
  service_id: string;
  email_address: string;
  is_default: Generated<boolean>;
  archived: Generated<boolean>;
  created_at: Timestamp;
}

export interface SmsSendersTable {
  id: Generated<string>;
  service_id: string;
  sms_sender: string;
  is_default: Generated<boolean>;
  archived: Generated<boolean>;
  created_at: Timestamp;
}

export interface TemplatesTable {
  id: string;
  service_id: string;
  key: string | null;
  name: string;
  type: TemplateType;
  subject: string | null;
  content: string;
  category: Generated<TemplateCategory>;
  version: Generated<number>;
  archived: Generated<boolean>;
  hidden: Generated<boolean>;
  created_by_id: string | null;
  created_at: Timestamp;
  updated_at: NullableTimestamp;
  folder_id: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface TemplateFoldersTable {
  id: Generated<string>;
  service_id: string;
  parent_id: string | null;
  name: string;
  created_at: Timestamp;
}

export interface SendUploadsTable {
  id: string;
  service_id: string;
  template_id: string;
  user_id: string;
  file_name: string;
  file_format: 'csv' | 'tsv' | 'xlsx';
  bytes: Uint8Array;
  created_at: Timestamp;
}

export interface TemplateHistoryTable {
  id: string;
  version: number;
  service_id: string;
  name: string;
  type: TemplateType;
  subject: string | null;
  content: string;
  category: TemplateCategory;
  created_by_id: string | null;
  created_at: Timestamp;
  updated_at: NullableTimestamp;
}

export interface ApiKeysTable {
  id: Generated<string>;
  service_id: string;
  name: string;
  key_type: KeyType;
  secret_sealed: string;
  secret_digest: string;
  created_at: Timestamp;
  expiry_date: NullableTimestamp;
}

export interface NotificationsTable {
  id: string;
  service_id: string;
  template_id: string;
  template_version: number;
  api_key_id: string | null;
  key_type: KeyType;
  notification_type: TemplateType;
  to: string;
  normalised_to: string;
  personalisation: Json;
  client_reference: string | null;
  subject: string | null;
  body: string;
  reply_to_text: string | null;
  one_click_unsubscribe_url: string | null;
  billable_units: Generated<number>;
  status: Generated<string>;
  priority: Generated<number>;
  scheduled_for: NullableTimestamp;
  next_attempt_at: Timestamp;
  claimed_until: NullableTimestamp;
  attempts: Generated<number>;
  provider: string | null;
  provider_reference: string | null;
  provider_response: string | null;
  created_by_id: string | null;
  job_id: string | null;
  job_row_number: number | null;
  created_at: Timestamp;
  sent_at: NullableTimestamp;
  updated_at: NullableTimestamp;
}

export interface ReceivedTextsTable {
  id: Generated<string>;
  service_id: string;
  notify_number: string;
  user_number: string;
  content: string;
  provider_date: NullableTimestamp;
  /** The provider's id of the text, when it gives one: the same text delivered twice is stored once. */
  provider_reference: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: Timestamp;
}

/** The Idempotency-Key of a send, stored with the notification it created and the answer to repeat (24 hours). */
export interface IdempotencyKeysTable {
  service_id: string;
  key: string;
  /** What makes "the same request": a digest of the route and the body. */
  request_hash: string;
  response: Json;
  created_at: Generated<Date>;
}

/** A day's count is the sum of its shards' rows (one per insert batch in flight, so that batches do not queue on one row). */
export interface DailySendCountsTable {
  service_id: string;
  day: ColumnType<string, string, string>;
  channel: string;
  shard: Generated<number>;
  sent: number;
}

/** API rate limit tokens taken so far per service and key type by all API replicas together; only ever grows. */
export interface ApiRateCountersTable {
  service_id: string;
  key_type: KeyType;
  taken: ColumnType<number, number | undefined, number>;
}

export interface OutboxTable {
  id: Generated<number>;
  notification_id: string;
  service_id: string;
  channel: string;
  recipient: string;
  sender: string | null;
  subject: string | null;
  body: string;
  html: string | null;
  headers: Json;
  created_at: Timestamp;
}

export interface JobsTable {
  id: string;
  service_id: string;
  template_id: string;
  template_version: number;
  template_type: TemplateType;
  original_file_name: string;
  file_format: string;
  notification_count: number;
  job_status: JobStatus;
  api_key_id: string | null;
  key_type: KeyType;
  created_by_id: string | null;
  sender_id: string | null;
  reply_to_text: string | null;
  client_reference: string | null;
  scheduled_for: NullableTimestamp;
  processing_started: NullableTimestamp;
  processing_finished: NullableTimestamp;
  archived: Generated<boolean>;
  counted: Json;
  counted_on: ColumnType<string | null, string | null | undefined, string | null>;
  next_attempt_at: Timestamp;
  claimed_until: NullableTimestamp;
  attempts: Generated<number>;
  file_expires_at: Timestamp;
  created_at: Timestamp;
  updated_at: NullableTimestamp;
}

export interface JobFilesTable {
  job_id: string;
  seq: number;
  bytes: Uint8Array;
  created_at: Timestamp;
}

export interface SuppressionsTable {
  service_id: string;
  channel: TemplateType;
  recipient: string;
  reason: SuppressionReason;
  notification_id: string | null;
  created_at: Timestamp;
}

export interface ComplaintsTable {
  id: Generated<string>;
  service_id: string;
  notification_id: string;
  complaint_type: string | null;
  complaint_date: NullableTimestamp;
  provider_reference: string | null;
  created_at: Timestamp;
}

export interface ServiceCallbacksTable {
  id: Generated<string>;
  service_id: string;
  callback_type: CallbackType;
  url: string;
  bearer_token_sealed: string;
  disabled_at: NullableTimestamp;
  disabled_reason: string | null;
  created_at: Timestamp;
  updated_at: NullableTimestamp;
}

export interface CallbackDeliveriesTable {
  id: Generated<string>;
  service_id: string;
  callback_type: CallbackType;
  subject_id: string;
  status: string | null;
  provider_response: string | null;
  status_at: NullableTimestamp;
  state: Generated<'pending' | 'delivered' | 'failed' | 'dropped'>;
  last_response: string | null;
  next_attempt_at: Timestamp;
  claimed_until: NullableTimestamp;
  attempts: Generated<number>;
  created_at: Timestamp;
  updated_at: NullableTimestamp;
}

/** One UTC day of a service's notifications, rolled up before they are deleted; kept for good. */
export interface NotificationStatsDailyTable {
  service_id: string;
  day: ColumnType<string, string, string>;
  template_id: string;
  notification_type: TemplateType;
  status: string;
  key_type: KeyType;
  notification_count: number;
  billable_units: number;
}

/** A (service, day) whose figures are final in notification_stats_daily; purged_at: its rows are all gone. */
export interface NotificationRollupsTable {
  service_id: string;
  day: ColumnType<string, string, string>;
  rolled_up_at: Timestamp;
  purged_at: NullableTimestamp;
}

/** One of the last API requests of a service (bounded per service), for its API integration page. */
export interface ApiRequestsTable {
  id: ColumnType<number, never, never>;
  service_id: string;
  api_key_id: string | null;
  method: string;
  path: string;
  status_code: number;
  created_at: Timestamp;
}
