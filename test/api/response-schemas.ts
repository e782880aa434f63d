/**
 * JSON schemas for every v2 response body, written from the wire contract (shared/reference/notify-api-v2.md §2.1,
 * 2.2, 2.5, 2.7, 2.8, 2.9, 2.10, 2.11 and the error shape of §4), not from Envoi's code. Keys the official clients
 * rely on are required; `additionalProperties: false` only where the Python client's test schemas have it (the
 * lists' top level and `links`, received text items), because extra keys are otherwise allowed.
 *
 * `expectSchema(name, body)` validates a body and fails with every violation listed.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';

/** Notify's `%Y-%m-%dT%H:%M:%S.%fZ`: UTC, six fractional digits. */
export const DATE_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{6}Z$';

const uuid = { type: 'string', format: 'uuid' } as const;
const date = { type: 'string', pattern: DATE_PATTERN } as const;
const nullableDate = { type: ['string', 'null'], pattern: DATE_PATTERN } as const;
const nullableString = { type: ['string', 'null'] } as const;
const url = { type: 'string', format: 'uri' } as const;
const emptyObject = { type: 'object', maxProperties: 0 } as const;

/** Internal statuses (§9); email and text message notifications report them unchanged. */
export const STATUSES = [
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

/** `template` in POST responses: its uri is `<root>services/<service id>/templates/<template id>`. */
const postTemplateRef = {
  type: 'object',
  required: ['id', 'version', 'uri'],
  properties: { id: uuid, version: { type: 'integer', minimum: 1 }, uri: url },
} as const;

const postResponseBase = {
  id: uuid,
  reference: nullableString,
  uri: url,
  template: postTemplateRef,
  scheduled_for: nullableDate,
} as const;

/** §2.1 POST /v2/notifications/sms → 201. */
export const postSmsResponse = {
  type: 'object',
  required: ['id', 'reference', 'uri', 'template', 'scheduled_for', 'content'],
  properties: {
    ...postResponseBase,
    content: {
      type: 'object',
      required: ['from_number', 'body'],
      // The Node client's test schema requires a string (the Python one would allow null).
      properties: { from_number: { type: 'string' }, body: { type: 'string' } },
    },
  },
  // sanitised_content is for emails only.
  not: { required: ['sanitised_content'] },
} as const;

/** §2.2 POST /v2/notifications/email → 201. */
export const postEmailResponse = {
  type: 'object',
  required: ['id', 'reference', 'uri', 'template', 'scheduled_for', 'content', 'sanitised_content'],
  properties: {
    ...postResponseBase,
    content: {
      type: 'object',
      required: ['from_email', 'body', 'subject', 'one_click_unsubscribe_url'],
      properties: {
        from_email: { type: 'string', format: 'email' },
        body: { type: 'string' },
        subject: { type: 'string' },
        one_click_unsubscribe_url: { type: ['string', 'null'], pattern: '^https' },
      },
    },
    sanitised_content: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['unsanitised', 'sanitised'],
        properties: { unsanitised: { type: 'string' }, sanitised: { type: 'string' } },
      },
    },
  },
} as const;

/** §2.5 GET /v2/notifications/{id} → 200 (email and text messages; every key always present). */
export const notification = {
  type: 'object',
  required: [
    'id',
    'reference',
    'email_address',
    'phone_number',
    'line_1',
    'line_2',
    'line_3',
    'line_4',
    'line_5',
    'line_6',
    'postcode',
    'type',
    'status',
    'template',
    'body',
    'subject',
    'created_at',
    'created_by_name',
    'sent_at',
    'completed_at',
    'scheduled_for',
    'postage',
    'one_click_unsubscribe_url',
    'is_cost_data_ready',
    'cost_in_pounds',
    'cost_details',
  ],
  properties: {
    id: uuid,
    reference: nullableString,
    email_address: nullableString,
    phone_number: nullableString,
    line_1: nullableString,
    line_2: nullableString,
    line_3: nullableString,
    line_4: nullableString,
    line_5: nullableString,
    line_6: nullableString,
    postcode: nullableString,
    type: { enum: ['sms', 'email', 'letter'] },
    status: { enum: [...STATUSES] },
    template: {
      type: 'object',
      required: ['id', 'version', 'uri'],
      properties: {
        id: uuid,
        version: { type: 'integer', minimum: 1 },
        // <host>/v2/template/<id>/version/<version>
        uri: { type: 'string', format: 'uri', pattern: '/v2/template/[0-9a-f-]{36}/version/[0-9]+$' },
      },
    },
    body: { type: 'string' },
    subject: nullableString,
    created_at: date,
    created_by_name: nullableString,
    sent_at: nullableDate,
    completed_at: nullableDate,
    scheduled_for: nullableDate,
    postage: nullableString,
    one_click_unsubscribe_url: nullableString,
    is_cost_data_ready: { type: 'boolean' },
    cost_in_pounds: { type: ['number', 'null'] },
    cost_details: { type: 'object' },
  },
  allOf: [
    {
      if: { properties: { type: { const: 'email' } } },
      then: {
        properties: {
          email_address: { type: 'string' },
          phone_number: { type: 'null' },
          subject: { type: 'string' },
          is_cost_data_ready: { const: true },
          cost_in_pounds: { const: 0 },
          cost_details: emptyObject,
        },
      },
    },
    {
      if: { properties: { type: { const: 'sms' } } },
      then: {
        properties: { phone_number: { type: 'string' }, email_address: { type: 'null' }, subject: { type: 'null' } },
      },
    },
    {
      if: { properties: { type: { const: 'sms' }, is_cost_data_ready: { const: true } } },
      then: {
        properties: {
          cost_in_pounds: { type: 'number' },
          cost_details: {
            type: 'object',
            required: ['billable_sms_fragments', 'international_rate_multiplier', 'sms_rate'],
            properties: {
              billable_sms_fragments: { type: 'integer', minimum: 1 },
              international_rate_multiplier: { type: 'number' },
              sms_rate: { type: 'number' },
            },
          },
        },
      },
    },
    {
      if: { properties: { is_cost_data_ready: { const: false } } },
      then: { properties: { cost_in_pounds: { type: 'null' }, cost_details: emptyObject } },
    },
    {
      // completed_at is set exactly when the status is a completed one.
      if: {
        properties: {
          status: {
            enum: [
              'sent',
              'delivered',
              'failed',
              'technical-failure',
              'temporary-failure',
              'permanent-failure',
              'returned-letter',
              'cancelled',
              'validation-failed',
            ],
          },
        },
      },
      then: { properties: { completed_at: date } },
      else: { properties: { completed_at: { type: 'null' } } },
    },
  ],
} as const;

const links = {
  type: 'object',
  required: ['current'],
  additionalProperties: false,
  properties: { current: url, next: url },
} as const;

/** §2.7 GET /v2/notifications → 200. */
export const notificationList = {
  type: 'object',
  required: ['notifications', 'links'],
  additionalProperties: false,
  properties: {
    notifications: { type: 'array', maxItems: 250, items: notification },
    links,
  },
} as const;

/** §2.8 GET /v2/template/{id}[/version/{v}] → 200. */
export const template = {
  type: 'object',
  required: [
    'id',
    'type',
    'created_at',
    'updated_at',
    'created_by',
    'version',
    'body',
    'subject',
    'name',
    'personalisation',
    'postage',
    'letter_contact_block',
  ],
  properties: {
    id: uuid,
    type: { enum: ['sms', 'email', 'letter'] },
    created_at: date,
    updated_at: nullableDate,
    // The creator's email address; required to be a string by both clients' test schemas.
    created_by: { type: 'string', format: 'email' },
    version: { type: 'integer', minimum: 1 },
    body: { type: 'string' },
    subject: nullableString,
    name: { type: 'string' },
    personalisation: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['required'],
        properties: { required: { type: 'boolean' } },
      },
    },
    postage: nullableString,
    letter_contact_block: nullableString,
  },
  allOf: [
    { if: { properties: { type: { const: 'sms' } } }, then: { properties: { subject: { type: 'null' } } } },
    { if: { properties: { type: { const: 'email' } } }, then: { properties: { subject: { type: 'string' } } } },
  ],
} as const;

/** §2.9 GET /v2/templates → 200. */
export const templateList = {
  type: 'object',
  required: ['templates'],
  properties: { templates: { type: 'array', items: template } },
} as const;

/** §2.10 POST /v2/template/{id}/preview → 200. */
export const templatePreview = {
  type: 'object',
  required: ['id', 'type', 'version', 'body', 'html', 'subject', 'postage'],
  properties: {
    id: uuid,
    type: { enum: ['sms', 'email', 'letter'] },
    version: { type: 'integer', minimum: 1 },
    body: { type: 'string' },
    html: nullableString,
    subject: nullableString,
    postage: nullableString,
  },
  allOf: [
    {
      if: { properties: { type: { const: 'email' } } },
      then: { properties: { html: { type: 'string' }, subject: { type: 'string' } } },
    },
    {
      if: { properties: { type: { const: 'sms' } } },
      then: { properties: { html: { type: 'null' }, subject: { type: 'null' } } },
    },
  ],
} as const;

/** One item of §2.11: exactly these six keys. */
export const receivedText = {
  type: 'object',
  required: ['id', 'created_at', 'service_id', 'notify_number', 'user_number', 'content'],
  additionalProperties: false,
  properties: {
    id: uuid,
    created_at: date,
    service_id: uuid,
    notify_number: { type: 'string' },
    user_number: { type: 'string' },
    content: { type: 'string' },
  },
} as const;

/** §2.11 GET /v2/received-text-messages → 200. */
export const receivedTextList = {
  type: 'object',
  required: ['received_text_messages', 'links'],
  additionalProperties: false,
  properties: {
    received_text_messages: { type: 'array', maxItems: 250, items: receivedText },
    links: {
      ...links,
      // links.current never carries a query string.
      properties: {
        current: { ...url, not: { pattern: '\\?' } },
        next: { ...url, pattern: '\\?older_than=[0-9a-f-]{36}$' },
      },
    },
  },
} as const;

/** §4: every API error, auth errors included. */
export const error = {
  type: 'object',
  required: ['status_code', 'errors'],
  additionalProperties: false,
  properties: {
    status_code: { type: 'integer', minimum: 400, maximum: 599 },
    errors: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['error', 'message'],
        properties: { error: { type: 'string', minLength: 1 }, message: { type: 'string', minLength: 1 } },
      },
    },
  },
} as const;

/** §1: the app-level answer for an unknown URL (404) or a wrong method (405), given before authentication. */
export const appError = {
  type: 'object',
  required: ['result', 'message'],
  additionalProperties: false,
  properties: { result: { const: 'error' }, message: { type: 'string', minLength: 1 } },
} as const;

export const responseSchemas = {
  postSmsResponse,
  postEmailResponse,
  notification,
  notificationList,
  template,
  templateList,
  templatePreview,
  receivedText,
  receivedTextList,
  error,
  appError,
};

export type ResponseSchemaName = keyof typeof responseSchemas;

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is the module object.
const addFormats = ((ajvFormats as unknown as { default?: unknown }).default ?? ajvFormats) as unknown as (
  ajv: Ajv,
) => Ajv;

const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
addFormats(ajv);

const validators = new Map<ResponseSchemaName, ValidateFunction>(
  (Object.keys(responseSchemas) as ResponseSchemaName[]).map((name) => [name, ajv.compile(responseSchemas[name])]),
);

/** The violations of `data` against a schema, one line each; empty when it is valid. */
export function schemaViolations(name: ResponseSchemaName, data: unknown): string[] {
  const validate = validators.get(name)!;
  if (validate(data)) return [];
  return (validate.errors ?? []).map(
    (e: ErrorObject) => `${e.instancePath || '(body)'} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`,
  );
}

/** Throws, listing every violation, unless `data` matches the named response schema. */
export function expectSchema(name: ResponseSchemaName, data: unknown): void {
  const problems = schemaViolations(name, data);
  if (problems.length > 0) {
    throw new Error(
      `response does not match the ${name} schema:\n  ${problems.join('\n  ')}\nbody: ${JSON.stringify(data)}`,
    );
  }
}
