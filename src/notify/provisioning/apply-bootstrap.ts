/**
 * Provisioning as code, applied: the database is made to match a checked bootstrap file (bootstrap-file.ts),
 * creating or updating, never duplicating, one transaction per service. Applying the same file twice changes nothing.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../../platform/database/connection.ts';
import { setServiceMembers } from '../../platform/repositories/service-members.ts';
import {
  findServiceByIdOrName,
  insertService,
  type ServiceRow,
  updateService,
} from '../../platform/repositories/services.ts';
import { systemUserId, upsertUserByEmail } from '../../platform/repositories/users.ts';
import type { SecretBox } from '../../platform/secret-box.ts';
import { findApiKeyByName, revokeApiKeyNow } from '../repositories/api-keys.ts';
import { hasCallbacks } from '../repositories/callbacks.ts';
import { setGuestList } from '../repositories/guest-list.ts';
import { insertReceivedTextOnce } from '../repositories/received-texts.ts';
import { insertSender, listSenders, type SenderKind, setSenderState } from '../repositories/senders.ts';
import { findTemplateByKey, setTemplateCategoryAndArchived, writeTemplateVersion } from '../repositories/templates.ts';
import { type CountryCode, normaliseRecipient } from '../../platform/recipients.ts';
import { fullApiKey, insertApiKey } from '../settings/api-keys.ts';
import {
  CALLBACK_TYPES,
  CallbackSettingsError,
  ensureWebhookSecret,
  removeCallback,
  setCallback,
} from '../settings/callback-settings.ts';
import { BootstrapError, type BootstrapFile, type BootstrapResult, type BootstrapService } from './bootstrap-file.ts';

/** The config, or the part of it applying a file needs. */
export interface BootstrapOptions {
  phoneRegion: string;
  emailDomain: string;
  callbacks?: { allowedHosts: readonly string[] };
}

type ServiceResult = BootstrapResult['services'][number];

export async function applyBootstrap(
  db: Db,
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
  trx: Db,
  secrets: SecretBox,
  spec: BootstrapService,
  opts: BootstrapOptions,
): Promise<ServiceResult> {
  const region = opts.phoneRegion as CountryCode;
  const { serviceId, inboundNumber } = await applyServiceRow(trx, spec, region);
  const memberIds = await applyTeam(trx, serviceId, spec, region);
  if (spec.guest_list) {
    await setGuestList(
      trx,
      serviceId,
      spec.guest_list.map((g) => {
        const type = g.includes('@') ? ('email' as const) : ('sms' as const);
        return { recipient_type: type, recipient: normaliseRecipient(type, g, { defaultRegion: region }) };
      }),
    );
  }
  const replyTo = await applySenders(
    trx,
    'reply-to',
    serviceId,
    spec.reply_to?.map((r) =>
      typeof r === 'string' ? { value: r, isDefault: false } : { value: r.email, isDefault: !!r.default },
    ),
  );
  const smsSenders = await applySenders(
    trx,
    'sms-sender',
    serviceId,
    spec.sms_senders?.map((s) =>
      typeof s === 'string' ? { value: s, isDefault: false } : { value: s.sender, isDefault: !!s.default },
    ),
  );
  const creatorId = memberIds?.[0] ?? (await systemUserId(trx, opts.emailDomain));
  const templates: Record<string, string> = {};
  for (const t of spec.templates ?? []) templates[t.key] = await applyTemplate(trx, serviceId, creatorId, t);
  const apiKeys = await applyApiKeys(trx, secrets, serviceId, spec);
  for (const text of spec.received_texts ?? []) {
    await insertReceivedTextOnce(trx, {
      serviceId,
      notifyNumber: inboundNumber ?? '',
      userNumber: normaliseRecipient('sms', text.from, { defaultRegion: region }),
      content: text.content,
    });
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

/** The service row: created, or updated where the file says otherwise; what the file leaves out is kept. */
async function applyServiceRow(
  trx: Db,
  spec: BootstrapService,
  region: CountryCode,
): Promise<{ serviceId: string; inboundNumber: string | null }> {
  const existing = await findServiceByIdOrName(trx, { id: spec.id?.toLowerCase(), name: spec.name });
  const serviceId = existing?.id ?? spec.id?.toLowerCase() ?? randomUUID();
  const values = serviceValues(spec, existing, region);
  if (!existing) await insertService(trx, { id: serviceId, ...values });
  else if (changed(existing, values)) await updateService(trx, serviceId, values);
  return { serviceId, inboundNumber: values.inbound_number };
}

function serviceValues(spec: BootstrapService, existing: ServiceRow | undefined, region: CountryCode) {
  return {
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
}

/** Team members: users by email address, linked to the service; members left out of the file are unlinked. */
async function applyTeam(
  trx: Db,
  serviceId: string,
  spec: BootstrapService,
  region: CountryCode,
): Promise<string[] | null> {
  if (!spec.team) return null;
  const memberIds: string[] = [];
  for (const member of spec.team) {
    memberIds.push(
      await upsertUserByEmail(trx, {
        name: member.name,
        email: normaliseRecipient('email', member.email),
        mobile: member.mobile ? normaliseRecipient('sms', member.mobile, { defaultRegion: region }) : null,
      }),
    );
  }
  await setServiceMembers(trx, serviceId, memberIds);
  return memberIds;
}

/** Keys are created once and found again by name; the full key string is rebuilt from the sealed secret. */
async function applyApiKeys(
  trx: Db,
  secrets: SecretBox,
  serviceId: string,
  spec: BootstrapService,
): Promise<Record<string, string>> {
  const apiKeys: Record<string, string> = {};
  for (const k of spec.api_keys ?? []) {
    const row = await findApiKeyByName(trx, serviceId, k.name);
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
      if (k.revoked && !row.expiry_date) await revokeApiKeyNow(trx, row.id);
    }
    apiKeys[k.name] = fullApiKey(k.name, serviceId, secret);
  }
  return apiKeys;
}

/** Sets the file's callbacks (when it lists any) and returns the signing secret if the service has callbacks. */
async function applyCallbacks(
  trx: Db,
  secrets: SecretBox,
  serviceId: string,
  spec: BootstrapService,
  opts: BootstrapOptions,
): Promise<string | null> {
  for (const type of spec.callbacks ? CALLBACK_TYPES : []) {
    const c = spec.callbacks?.[type];
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
  return (await hasCallbacks(trx, serviceId)) ? ensureWebhookSecret(trx, secrets, serviceId) : null;
}

/** Reply-to addresses and text senders: listed ones active (first is default unless one says so), others archived. */
async function applySenders(
  trx: Db,
  kind: SenderKind,
  serviceId: string,
  wanted: { value: string; isDefault: boolean }[] | undefined,
): Promise<Record<string, string>> {
  const rows = await listSenders(trx, kind, serviceId);
  if (wanted === undefined) return Object.fromEntries(rows.filter((r) => !r.archived).map((r) => [r.value, r.id]));
  const defaultIndex = Math.max(
    0,
    wanted.findIndex((w) => w.isDefault),
  );
  const ids: Record<string, string> = {};
  for (const [i, w] of wanted.entries()) {
    const isDefault = i === defaultIndex;
    const row = rows.find((r) => r.value === w.value);
    if (!row) {
      ids[w.value] = await insertSender(trx, kind, serviceId, w.value, isDefault);
      continue;
    }
    if (row.isDefault !== isDefault || row.archived)
      await setSenderState(trx, kind, row.id, { isDefault, archived: false });
    ids[w.value] = row.id;
  }
  for (const row of rows) {
    if (!(row.value in ids) && !row.archived)
      await setSenderState(trx, kind, row.id, { isDefault: false, archived: true });
  }
  return ids;
}

/**
 * A template's versions in the file are its history, oldest first. Entries past the stored version are added
 * as new versions; if the file's last entry differs from the current template, it becomes a new version.
 */
async function applyTemplate(
  trx: Db,
  serviceId: string,
  creatorId: string | null,
  spec: NonNullable<BootstrapService['templates']>[number],
): Promise<string> {
  const category = spec.category ?? 'normal';
  const archived = spec.archived ?? false;
  const existing = await findTemplateByKey(trx, serviceId, spec.key);
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
      archived,
    });
  }
  if (existing && (existing.category !== category || existing.archived !== archived)) {
    await setTemplateCategoryAndArchived(trx, serviceId, id, { category, archived });
  }
  return id;
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
