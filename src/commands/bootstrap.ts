/**
 * Provisioning as code: a JSON file declares services and what they own, and applying it makes the database
 * match, creating or updating, never duplicating. Applying the same file twice changes nothing.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { Ajv } from 'ajv';
import type { CallbackType, Database, KeyType, TemplateCategory, TemplateType } from '../platform/database/schema.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import {
  CALLBACK_TYPES,
  CallbackSettingsError,
  callbackProblems,
  ensureWebhookSecret,
  removeCallback,
  setCallback,
} from '../notify/settings/callback-settings.ts';
import { fullApiKey, insertApiKey } from '../notify/settings/api-keys.ts';
import {
  InvalidRecipientError,
  normaliseRecipient,
  validateEmailAddress,
  validatePhoneNumber,
  type CountryCode,
} from '../notify/sending/recipients.ts';

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

/** The config, or the part of it applying a file needs. */
export interface BootstrapOptions {
  phoneRegion: string;
  emailDomain: string;
  callbacks?: { allowedHosts: readonly string[] };
}

export async function applyBootstrap(
  db: Kysely<Database>,
  secrets: SecretBox,
  file: BootstrapFile,
  opts: BootstrapOptions,
): Promise<BootstrapResult> {
  const result: BootstrapResult = { services: [] };
  for (const spec of file.services) {
    result.services.push(await db.transaction().execute((trx) => applyService(trx, secrets, spec, opts)));
  }
  return result;
}

async function applyService(
  trx: Kysely<Database>,
  secrets: SecretBox,
  spec: BootstrapService,
  opts: BootstrapOptions,
): Promise<BootstrapResult['services'][number]> {
  const region = opts.phoneRegion as CountryCode;
  const existing = spec.id
    ? await trx.selectFrom('services').selectAll().where('id', '=', spec.id.toLowerCase()).executeTakeFirst()
    : await trx.selectFrom('services').selectAll().where('name', '=', spec.name).executeTakeFirst();
  const serviceId = existing?.id ?? spec.id?.toLowerCase() ?? randomUUID();
  const values = {
    name: spec.name,
    restricted: spec.restricted ?? existing?.restricted ?? true,
    active: spec.active ?? existing?.active ?? true,
    permissions: spec.permissions ?? existing?.permissions ?? ['email', 'sms'],
    email_message_limit: spec.message_limit?.email ?? existing?.email_message_limit ?? 50,
    sms_message_limit: spec.message_limit?.sms ?? existing?.sms_message_limit ?? 50,
    international_sms_message_limit:
      spec.message_limit?.international_sms ?? existing?.international_sms_message_limit ?? 50,
    rate_limit: spec.rate_limit ?? existing?.rate_limit ?? 1000,
    max_rows: spec.max_rows ?? existing?.max_rows ?? 50_000,
    email_sender_local_part: spec.email_sender ?? existing?.email_sender_local_part ?? localPartFrom(spec.name),
    inbound_number:
      spec.inbound_number === undefined
        ? (existing?.inbound_number ?? null)
        : spec.inbound_number && normaliseRecipient('sms', spec.inbound_number, { defaultRegion: region }),
    data_retention_days: spec.data_retention_days ?? existing?.data_retention_days ?? 7,
  };
  if (!existing) {
    await trx
      .insertInto('services')
      .values({ id: serviceId, ...values })
      .execute();
  } else if (changed(existing, values)) {
    await trx
      .updateTable('services')
      .set({ ...values, updated_at: new Date() })
      .where('id', '=', serviceId)
      .execute();
  }

  // Team members: users by email address, linked to the service; members left out of the file are unlinked.
  const memberIds: string[] = [];
  for (const member of spec.team ?? []) {
    const email = normaliseRecipient('email', member.email);
    const mobile = member.mobile ? normaliseRecipient('sms', member.mobile, { defaultRegion: region }) : null;
    const user = await trx.selectFrom('users').selectAll().where('email_address', '=', email).executeTakeFirst();
    let userId = user?.id;
    if (!user) {
      userId = (
        await trx
          .insertInto('users')
          .values({ name: member.name, email_address: email, mobile_number: mobile })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id;
    } else if (user.name !== member.name || user.mobile_number !== mobile) {
      await trx
        .updateTable('users')
        .set({ name: member.name, mobile_number: mobile })
        .where('id', '=', user.id)
        .execute();
    }
    memberIds.push(userId!);
    await trx
      .insertInto('service_users')
      .values({ service_id: serviceId, user_id: userId! })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
  if (spec.team) {
    let unlink = trx.deleteFrom('service_users').where('service_id', '=', serviceId);
    if (memberIds.length) unlink = unlink.where('user_id', 'not in', memberIds);
    await unlink.execute();
  }

  if (spec.guest_list) {
    const guests = spec.guest_list.map((g) => {
      const type = g.includes('@') ? ('email' as const) : ('sms' as const);
      return { recipient_type: type, recipient: normaliseRecipient(type, g, { defaultRegion: region }) };
    });
    const current = await trx
      .selectFrom('guest_list')
      .select(['recipient_type', 'recipient'])
      .where('service_id', '=', serviceId)
      .execute();
    const want = new Set(guests.map((g) => `${g.recipient_type}:${g.recipient}`));
    const have = new Set(current.map((g) => `${g.recipient_type}:${g.recipient}`));
    for (const g of current) {
      if (!want.has(`${g.recipient_type}:${g.recipient}`)) {
        await trx
          .deleteFrom('guest_list')
          .where('service_id', '=', serviceId)
          .where('recipient_type', '=', g.recipient_type)
          .where('recipient', '=', g.recipient)
          .execute();
      }
    }
    const missing = guests.filter(
      (g, i) =>
        !have.has(`${g.recipient_type}:${g.recipient}`) && guests.findIndex((x) => x.recipient === g.recipient) === i,
    );
    if (missing.length)
      await trx
        .insertInto('guest_list')
        .values(missing.map((g) => ({ service_id: serviceId, ...g })))
        .execute();
  }

  const replyTo = await applySenders(
    trx,
    'email_reply_to',
    'email_address',
    serviceId,
    spec.reply_to?.map((r) =>
      typeof r === 'string' ? { value: r, isDefault: false } : { value: r.email, isDefault: !!r.default },
    ),
  );
  const smsSenders = await applySenders(
    trx,
    'sms_senders',
    'sms_sender',
    serviceId,
    spec.sms_senders?.map((s) =>
      typeof s === 'string' ? { value: s, isDefault: false } : { value: s.sender, isDefault: !!s.default },
    ),
  );

  const creatorId = memberIds[0] ?? (await systemUserId(trx, opts.emailDomain));
  const templates: Record<string, string> = {};
  for (const t of spec.templates ?? []) templates[t.key] = await applyTemplate(trx, serviceId, creatorId, t);

  const apiKeys: Record<string, string> = {};
  for (const k of spec.api_keys ?? []) {
    const row = await trx
      .selectFrom('api_keys')
      .selectAll()
      .where('service_id', '=', serviceId)
      .where('name', '=', k.name)
      .executeTakeFirst();
    let secret: string;
    if (!row) {
      secret = (await insertApiKey(trx, secrets, { serviceId, name: k.name, keyType: k.type, revoked: k.revoked }))
        .secret;
    } else {
      secret = secrets.open(row.secret_sealed);
      if (row.key_type !== k.type) {
        throw new BootstrapError(
          `service "${spec.name}": API key "${k.name}" is ${row.key_type}; a key's type cannot change, give the new key another name`,
        );
      }
      if (k.revoked && !row.expiry_date) {
        await trx.updateTable('api_keys').set({ expiry_date: new Date() }).where('id', '=', row.id).execute();
      }
    }
    apiKeys[k.name] = fullApiKey(k.name, serviceId, secret);
  }

  for (const text of spec.received_texts ?? []) {
    const userNumber = normaliseRecipient('sms', text.from, { defaultRegion: region });
    const seen = await trx
      .selectFrom('received_texts')
      .select('id')
      .where('service_id', '=', serviceId)
      .where('user_number', '=', userNumber)
      .where('content', '=', text.content)
      .executeTakeFirst();
    if (!seen) {
      await trx
        .insertInto('received_texts')
        .values({
          service_id: serviceId,
          notify_number: values.inbound_number ?? '',
          user_number: userNumber,
          content: text.content,
        })
        .execute();
    }
  }

  const webhookSecret = await applyCallbacks(trx, secrets, serviceId, spec, opts);

  return {
    name: spec.name,
    id: serviceId,
    templates,
    api_keys: apiKeys,
    reply_to: replyTo,
    sms_senders: smsSenders,
    ...(webhookSecret ? { webhook_secret: webhookSecret } : {}),
  };
}

/** Sets the file's callbacks (when it lists any) and returns the signing secret if the service has callbacks. */
async function applyCallbacks(
  trx: Kysely<Database>,
  secrets: SecretBox,
  serviceId: string,
  spec: BootstrapService,
  opts: BootstrapOptions,
): Promise<string | null> {
  if (spec.callbacks) {
    for (const type of CALLBACK_TYPES) {
      const c = spec.callbacks[type];
      if (!c) {
        await removeCallback(trx, serviceId, type);
        continue;
      }
      try {
        await setCallback(
          trx,
          secrets,
          serviceId,
          type,
          { url: c.url, bearerToken: c.bearer_token },
          { allowedHosts: opts.callbacks?.allowedHosts ?? [] },
        );
      } catch (err) {
        if (err instanceof CallbackSettingsError) throw new BootstrapError(`service "${spec.name}": ${err.message}`);
        throw err;
      }
    }
  }
  const any = await trx
    .selectFrom('service_callbacks')
    .select('id')
    .where('service_id', '=', serviceId)
    .executeTakeFirst();
  return any ? ensureWebhookSecret(trx, secrets, serviceId) : null;
}

/** Reply-to addresses and text senders: listed ones active (first is default unless one says so), others archived. */
async function applySenders(
  trx: Kysely<Database>,
  table: 'email_reply_to' | 'sms_senders',
  column: 'email_address' | 'sms_sender',
  serviceId: string,
  wanted: { value: string; isDefault: boolean }[] | undefined,
): Promise<Record<string, string>> {
  const rows = await trx.selectFrom(table).selectAll().where('service_id', '=', serviceId).execute();
  const columnValue = (r: (typeof rows)[number]) => (r as unknown as Record<string, string>)[column]!;
  if (wanted === undefined) {
    return Object.fromEntries(rows.filter((r) => !r.archived).map((r) => [columnValue(r), r.id]));
  }
  const defaultIndex = Math.max(
    0,
    wanted.findIndex((w) => w.isDefault),
  );
  const ids: Record<string, string> = {};
  for (const [i, w] of wanted.entries()) {
    const isDefault = i === defaultIndex;
    const row = rows.find((r) => columnValue(r) === w.value);
    if (!row) {
      const inserted = await trx
        .insertInto(table)
        .values({ service_id: serviceId, [column]: w.value, is_default: isDefault } as never)
        .returning('id')
        .executeTakeFirstOrThrow();
      ids[w.value] = inserted.id;
    } else {
      if (row.is_default !== isDefault || row.archived) {
        await trx.updateTable(table).set({ is_default: isDefault, archived: false }).where('id', '=', row.id).execute();
      }
      ids[w.value] = row.id;
    }
  }
  for (const row of rows) {
    if (!(columnValue(row) in ids) && !row.archived) {
      await trx.updateTable(table).set({ archived: true, is_default: false }).where('id', '=', row.id).execute();
    }
  }
  return ids;
}

/**
 * A template's versions in the file are its history, oldest first. Entries past the stored version are added
 * as new versions; if the file's last entry differs from the current template, it becomes a new version.
 */
async function applyTemplate(
  trx: Kysely<Database>,
  serviceId: string,
  creatorId: string | null,
  spec: NonNullable<BootstrapService['templates']>[number],
): Promise<string> {
  const category = spec.category ?? 'normal';
  const existing = await trx
    .selectFrom('templates')
    .selectAll()
    .where('service_id', '=', serviceId)
    .where('key', '=', spec.key)
    .executeTakeFirst();
  const id = existing?.id ?? randomUUID();
  let version = existing?.version ?? 0;
  if (existing && existing.type !== spec.type) {
    throw new BootstrapError(`template "${spec.key}" is ${existing.type}; a template's type cannot change`);
  }
  const toAdd = spec.versions.slice(version);
  const last = spec.versions.at(-1)!;
  if (existing && toAdd.length === 0) {
    const differs =
      existing.name !== last.name ||
      (existing.subject ?? null) !== (spec.type === 'email' ? last.subject! : null) ||
      existing.content !== last.content;
    if (differs) toAdd.push(last);
  }
  const now = new Date();
  for (const v of toAdd) {
    version += 1;
    await writeTemplateVersion(trx, {
      id,
      serviceId,
      version,
      name: v.name,
      type: spec.type,
      subject: v.subject ?? null,
      content: v.content,
      category,
      createdById: creatorId,
      createdAt: existing?.created_at ?? now,
      savedAt: now,
      key: spec.key,
      archived: spec.archived ?? false,
    });
  }
  if (existing && (existing.category !== category || existing.archived !== (spec.archived ?? false))) {
    await trx
      .updateTable('templates')
      .set({ category, archived: spec.archived ?? false, updated_at: now })
      .where('id', '=', id)
      .execute();
  }
  return id;
}

/** One version of a template as it is saved: the templates row and its template_history row say the same. */
export interface TemplateVersion {
  id: string;
  serviceId: string;
  version: number;
  name: string;
  type: TemplateType;
  /** Kept for emails only. */
  subject: string | null;
  content: string;
  category: TemplateCategory;
  createdById: string | null;
  /** When the template was first created (every version keeps it, as Notify's history does). */
  createdAt: Date;
  /** When this version was saved. */
  savedAt: Date;
  /** Version 1 only: the bootstrap key, whether it starts archived, and its folder in the web UI. */
  key?: string | null;
  archived?: boolean;
  folderId?: string | null;
}

/**
 * Saves a template's next version: the templates row (inserted for version 1, brought to the new version
 * after that) and the version's template_history row. Bootstrap files and the web UI both save through here.
 */
export async function writeTemplateVersion(trx: Kysely<Database>, v: TemplateVersion): Promise<void> {
  const fields = {
    name: v.name,
    subject: v.type === 'email' ? v.subject : null,
    content: v.content,
    category: v.category,
  };
  if (v.version === 1) {
    await trx
      .insertInto('templates')
      .values({
        id: v.id,
        service_id: v.serviceId,
        key: v.key ?? null,
        type: v.type,
        ...fields,
        version: 1,
        archived: v.archived ?? false,
        folder_id: v.folderId ?? null,
        created_by_id: v.createdById,
        created_at: v.createdAt,
        updated_at: null,
      })
      .execute();
  } else {
    await trx
      .updateTable('templates')
      .set({ ...fields, version: v.version, updated_at: v.savedAt })
      .where('id', '=', v.id)
      .where('service_id', '=', v.serviceId)
      .execute();
  }
  await trx
    .insertInto('template_history')
    .values({
      id: v.id,
      version: v.version,
      service_id: v.serviceId,
      type: v.type,
      ...fields,
      created_by_id: v.createdById,
      created_at: v.createdAt,
      updated_at: v.version > 1 ? v.savedAt : null,
    })
    .execute();
}

/**
 * Templates name their author (`created_by` in the API is an email address, which clients require). A service
 * provisioned without a team gets Envoi itself as author; so do jobs sent through the API or the CLI.
 */
export async function systemUserId(trx: Kysely<Database>, emailDomain: string): Promise<string> {
  const email = `envoi@${emailDomain}`;
  const existing = await trx.selectFrom('users').select('id').where('email_address', '=', email).executeTakeFirst();
  if (existing) return existing.id;
  return (
    await trx
      .insertInto('users')
      .values({ name: 'Envoi', email_address: email, mobile_number: null })
      .returning('id')
      .executeTakeFirstOrThrow()
  ).id;
}

function localPartFrom(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '.')
    .replace(/^\.+|\.+$/g, '');
  return slug || 'notifications';
}

function changed(existing: Record<string, unknown>, values: Record<string, unknown>): boolean {
  return Object.entries(values).some(([k, v]) => JSON.stringify(existing[k]) !== JSON.stringify(v));
}
