/**
 * Request schemas of the v2 API, field for field as notify-api-v2.md describes. `check` names a format whose
 * function (see api/v2/routes.ts) supplies the exact error text.
 */
const uuid = { type: 'string', check: 'uuid' } as const;
const personalisation = { type: 'object' } as const;
const reference = { type: 'string', maxLength: 1000 } as const;
const scheduledFor = { type: ['string', 'null'], check: 'scheduled_for' } as const;

export const postEmailRequest = {
  type: 'object',
  additionalProperties: false,
  required: ['email_address', 'template_id'],
  properties: {
    email_address: { type: 'string', check: 'email_address' },
    template_id: uuid,
    personalisation,
    reference,
    scheduled_for: scheduledFor,
    email_reply_to_id: uuid,
    one_click_unsubscribe_url: {
      type: 'string',
      pattern: '^https.*',
      check: 'uri',
      validationMessage: 'is not a valid https url',
    },
    sanitise_content_for: { type: ['array', 'null'], items: { type: 'string' } },
  },
} as const;

export const postSmsRequest = {
  type: 'object',
  additionalProperties: false,
  required: ['phone_number', 'template_id'],
  properties: {
    phone_number: { type: 'string', check: 'phone_number' },
    template_id: uuid,
    personalisation,
    reference,
    scheduled_for: scheduledFor,
    sms_sender_id: uuid,
  },
} as const;

/**
 * GC Notify's post_bulk_request. `rows` has no maxItems here: the service's own row limit is checked with the
 * rest of the list, in GC's words (`Too many rows. Maximum number of rows allowed is N`), rather than as a
 * schema error that would quote the whole array back.
 */
export const postBulkRequest = {
  type: 'object',
  additionalProperties: false,
  required: ['template_id', 'name'],
  properties: {
    template_id: uuid,
    name: { type: 'string' },
    reference: { type: 'string' },
    scheduled_for: scheduledFor,
    reply_to_id: { type: ['string', 'null'], check: 'nullable_uuid' },
    csv: { type: 'string' },
    rows: { type: 'array', minItems: 2 },
  },
} as const;

export const getJobRequest = {
  type: 'object',
  required: ['job_id'],
  properties: { job_id: uuid },
} as const;

export const NOTIFICATION_STATUSES = [
  'cancelled',
  'created',
  'sending',
  'sent',
  'delivered',
  'pending',
  'failed',
  'technical-failure',
  'temporary-failure',
  'permanent-failure',
  'pending-virus-check',
  'validation-failed',
  'virus-scan-failed',
  'returned-letter',
] as const;

export const getNotificationsRequest = {
  type: 'object',
  additionalProperties: false,
  properties: {
    template_type: { type: 'array', items: { enum: ['sms', 'email', 'letter'] } },
    status: { type: 'array', items: { enum: [...NOTIFICATION_STATUSES, 'accepted', 'received'] } },
    reference: { type: 'string' },
    older_than: uuid,
    include_jobs: { enum: ['true', 'True'] },
  },
} as const;

export const getNotificationRequest = {
  type: 'object',
  required: ['notification_id'],
  properties: { notification_id: uuid },
} as const;

export const getTemplateRequest = {
  type: 'object',
  required: ['id'],
  // A version is a PostgreSQL integer.
  properties: { id: uuid, version: { type: ['integer', 'null'], minimum: 0, maximum: 2_147_483_647 } },
} as const;

export const getTemplatesRequest = {
  type: 'object',
  additionalProperties: false,
  properties: { type: { enum: ['sms', 'email', 'letter'] } },
} as const;

export const postTemplatePreviewRequest = {
  type: 'object',
  required: ['id'],
  properties: { id: uuid, personalisation },
} as const;

export const getReceivedTextsRequest = {
  type: 'object',
  additionalProperties: false,
  properties: { older_than: uuid },
} as const;
