/**
 * Provisioning as code, the file: a JSON file declares services and what they own (apply-bootstrap.ts makes the
 * database match it). Its shape is checked with a JSON schema, then the rules a schema cannot say; every problem is
 * reported at once, with its path in the file.
 */
import { Ajv } from 'ajv';
import type { CallbackType, KeyType, TemplateCategory, TemplateType } from '../vocabulary.ts';
import { CALLBACK_TYPES, callbackProblems } from '../settings/callback-settings.ts';
import {
  InvalidRecipientError,
  validateEmailAddress,
  validatePhoneNumber,
  type CountryCode,
} from '../../platform/recipients.ts';

export interface BootstrapFile {
  services: BootstrapService[];
}

export interface BootstrapService {
  name: string;
  id?: string;
  restricted?: boolean;
  active?: boolean;
  permissions?: string[];
  message_limit?: { email?: number; sms?: number; international_sms?: number };
  rate_limit?: number;
  /** Rows allowed in one bulk job (50,000 unless set; at most 1,000,000). */
  max_rows?: number;
  email_sender?: string;
  data_retention_days?: number;
  team?: { name: string; email: string; mobile?: string }[];
  guest_list?: string[];
  reply_to?: (string | { email: string; default?: boolean })[];
  sms_senders?: (string | { sender: string; default?: boolean })[];
  inbound_number?: string | null;
  templates?: {
    key: string;
    type: TemplateType;
    category?: TemplateCategory;
    archived?: boolean;
    versions: { name: string; subject?: string; content: string }[];
  }[];
  api_keys?: { name: string; type: KeyType; revoked?: boolean }[];
  received_texts?: { from: string; content: string }[];
  /** When given, the service's callbacks are exactly these: types left out are removed. */
  callbacks?: Partial<Record<CallbackType, { url: string; bearer_token: string }>>;
}

export interface BootstrapResult {
  services: {
    name: string;
    id: string;
    templates: Record<string, string>;
    api_keys: Record<string, string>;
    reply_to: Record<string, string>;
    sms_senders: Record<string, string>;
    /** The Standard Webhooks secret that signs callbacks, for services that have any. */
    webhook_secret?: string;
  }[];
}

export class BootstrapError extends Error {
  override name = 'BootstrapError';
}

const uuidPattern = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const limit = { type: 'integer', minimum: 0 };
const callback = {
  type: 'object',
  required: ['url', 'bearer_token'],
  additionalProperties: false,
  properties: { url: { type: 'string' }, bearer_token: { type: 'string' } },
};
const FILE_SCHEMA = {
  type: 'object',
  required: ['services'],
  additionalProperties: false,
  properties: {
    services: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 255 },
          id: { type: 'string', pattern: uuidPattern },
          restricted: { type: 'boolean' },
          active: { type: 'boolean' },
          permissions: {
            type: 'array',
            items: { enum: ['email', 'sms', 'international_sms', 'inbound_sms'] },
            uniqueItems: true,
          },
          message_limit: {
            type: 'object',
            additionalProperties: false,
            properties: { email: limit, sms: limit, international_sms: limit },
          },
          rate_limit: { type: 'integer', minimum: 1 },
          max_rows: { type: 'integer', minimum: 1, maximum: 1_000_000 },
          email_sender: { type: 'string', pattern: '^[A-Za-z0-9!#$%&*+/=?^_`{|}~.-]{1,64}$' },
          data_retention_days: { type: 'integer', minimum: 3, maximum: 90 },
          team: {
            type: 'array',
            items: {
              type: 'object',
              required: ['name', 'email'],
              additionalProperties: false,
              properties: {
                name: { type: 'string', minLength: 1 },
                email: { type: 'string' },
                mobile: { type: 'string' },
              },
            },
          },
          guest_list: { type: 'array', items: { type: 'string', minLength: 1 } },
          reply_to: {
            type: 'array',
            items: {
              anyOf: [
                { type: 'string' },
                {
                  type: 'object',
                  required: ['email'],
                  additionalProperties: false,
                  properties: { email: { type: 'string' }, default: { type: 'boolean' } },
                },
              ],
            },
          },
          sms_senders: {
            type: 'array',
            items: {
              anyOf: [
                { type: 'string', minLength: 1, maxLength: 11 },
                {
                  type: 'object',
                  required: ['sender'],
                  additionalProperties: false,
                  properties: { sender: { type: 'string', minLength: 1 }, default: { type: 'boolean' } },
                },
              ],
            },
          },
          inbound_number: { type: ['string', 'null'] },
          templates: {
            type: 'array',
            items: {
              type: 'object',
              required: ['key', 'type', 'versions'],
              additionalProperties: false,
              properties: {
                key: { type: 'string', minLength: 1 },
                type: { enum: ['email', 'sms'] },
                category: { enum: ['high', 'normal', 'bulk'] },
                archived: { type: 'boolean' },
                versions: {
                  type: 'array',
                  minItems: 1,
                  items: {
                    type: 'object',
                    required: ['name', 'content'],
                    additionalProperties: false,
                    properties: {
                      name: { type: 'string', minLength: 1 },
                      subject: { type: 'string' },
                      content: { type: 'string', minLength: 1 },
                    },
                  },
                },
              },
            },
          },
          api_keys: {
            type: 'array',
            items: {
              type: 'object',
              required: ['name', 'type'],
              additionalProperties: false,
              properties: {
                name: { type: 'string', minLength: 1, maxLength: 255 },
                type: { enum: ['normal', 'team', 'test'] },
                revoked: { type: 'boolean' },
              },
            },
          },
          received_texts: {
            type: 'array',
            items: {
              type: 'object',
              required: ['from', 'content'],
              additionalProperties: false,
              properties: { from: { type: 'string' }, content: { type: 'string', minLength: 1 } },
            },
          },
          callbacks: {
            type: 'object',
            additionalProperties: false,
            properties: { delivery_status: callback, inbound_sms: callback, complaint: callback },
          },
        },
      },
    },
  },
} as const;

const validateFile = new Ajv({ allErrors: true, strict: false }).compile(FILE_SCHEMA);

/**
 * Checks the file's shape and the rules a schema cannot say; every problem is reported at once. `callbackHosts`
 * is config.callbacks.allowedHosts (http:// callbacks are refused for other hosts); when not given, that one
 * rule is checked as the file is applied.
 */
export function checkBootstrapFile(
  data: unknown,
  phoneRegion: string,
  callbackHosts?: readonly string[],
): BootstrapFile {
  if (!validateFile(data)) {
    const problems = (validateFile.errors ?? []).map((e) => `${e.instancePath || '(file)'}: ${e.message}`);
    throw new BootstrapError(`The bootstrap file is not valid:\n  ${[...new Set(problems)].join('\n  ')}`);
  }
  const file = data as unknown as BootstrapFile;
  const problems: string[] = [];
  const names = new Set<string>();
  file.services.forEach((s, i) => {
    const at = `/services/${i}`;
    if (names.has(s.name)) problems.push(`${at}/name: "${s.name}" appears twice`);
    names.add(s.name);
    const check = (path: string, fn: () => void) => {
      try {
        fn();
      } catch (err) {
        if (err instanceof InvalidRecipientError) problems.push(`${at}/${path}: ${err.message}`);
        else throw err;
      }
    };
    s.team?.forEach((m, j) => {
      check(`team/${j}/email`, () => validateEmailAddress(m.email));
      if (m.mobile)
        check(`team/${j}/mobile`, () => validatePhoneNumber(m.mobile!, { defaultRegion: phoneRegion as CountryCode }));
    });
    s.guest_list?.forEach((g, j) => {
      check(`guest_list/${j}`, () =>
        g.includes('@')
          ? validateEmailAddress(g)
          : validatePhoneNumber(g, { defaultRegion: phoneRegion as CountryCode }),
      );
    });
    s.reply_to?.forEach((r, j) => {
      check(`reply_to/${j}`, () => validateEmailAddress(typeof r === 'string' ? r : r.email));
    });
    const keys = new Set<string>();
    s.templates?.forEach((t, j) => {
      if (keys.has(t.key)) problems.push(`${at}/templates/${j}/key: "${t.key}" appears twice`);
      keys.add(t.key);
      t.versions.forEach((v, k) => {
        if (t.type === 'email' && !v.subject)
          problems.push(`${at}/templates/${j}/versions/${k}: an email template needs a subject`);
      });
    });
    const keyNames = new Set<string>();
    s.api_keys?.forEach((k, j) => {
      if (keyNames.has(k.name)) problems.push(`${at}/api_keys/${j}/name: "${k.name}" appears twice`);
      keyNames.add(k.name);
    });
    const defaults = (s.sms_senders ?? []).filter((x) => typeof x !== 'string' && x.default).length;
    if (defaults > 1) problems.push(`${at}/sms_senders: only one sender can be the default`);
    for (const type of CALLBACK_TYPES) {
      const c = s.callbacks?.[type];
      if (!c) continue;
      for (const p of callbackProblems({ url: c.url, bearerToken: c.bearer_token }, callbackHosts ?? null)) {
        problems.push(`${at}/callbacks/${type}/${p}`);
      }
    }
  });
  if (problems.length > 0) throw new BootstrapError(`The bootstrap file is not valid:\n  ${problems.join('\n  ')}`);
  return file;
}
