/**
 * Read-mostly facts about services that every API request needs (the service, its keys, templates, senders,
 * who it may send to in trial mode), and that the delivery worker needs (the From line and branding, template
 * versions), cached briefly so the accept path and the worker cost no extra queries. One directory serves both
 * when they run in one process. Writes made through this process invalidate at once; other replicas see them
 * within `ttlMs`.
 */
import type { Db } from '../../platform/database/connection.ts';
import { teamContacts } from '../../platform/repositories/service-members.ts';
import { findServiceById } from '../../platform/repositories/services.ts';
import { findApiKeyServiceByDigest, listServiceApiKeys } from '../repositories/api-keys.ts';
import { guestRecipients } from '../repositories/guest-list.ts';
import { listSenders, type SenderKind } from '../repositories/senders.ts';
import { findTemplate, findTemplateVersions } from '../repositories/templates.ts';
import type { KeyType, TemplateCategory, TemplateType } from '../vocabulary.ts';
import type { SecretBox } from '../../platform/secret-box.ts';
import { loadBrandings, NO_BRANDING, type ServiceBranding } from '../settings/email-branding.ts';

export interface ServiceRecord {
  id: string;
  name: string;
  active: boolean;
  restricted: boolean;
  permissions: Set<string>;
  messageLimits: { email: number; sms: number; international_sms: number };
  rateLimit: number;
  /** Rows allowed in one bulk job. */
  maxRows: number;
  emailSenderLocalPart: string;
  /** The From name the service chose in its settings; null for its own name. */
  emailSenderName: string | null;
  inboundNumber: string | null;
}

/** What the delivery worker puts on a service's messages. */
export interface SenderProfile {
  /** The From name (and a text message's sender when none was chosen). */
  name: string;
  emailSenderLocalPart: string;
  branding: ServiceBranding;
}

export interface ApiKeyRecord {
  id: string;
  serviceId: string;
  name: string;
  keyType: KeyType;
  secret: string;
  revoked: boolean;
}

export interface TemplateRecord {
  id: string;
  serviceId: string;
  name: string;
  type: TemplateType;
  subject: string | null;
  content: string;
  category: TemplateCategory;
  version: number;
  archived: boolean;
  hidden: boolean;
  createdAt: Date;
  updatedAt: Date | null;
  createdBy: string | null;
}

export interface SenderRecord {
  id: string;
  value: string;
  isDefault: boolean;
}

interface Entry<T> {
  value: Promise<T>;
  expires: number;
}

/** Template versions never change, so they are kept until pushed out by newer ones. */
const TEMPLATE_VERSIONS_MAX = 1_000;

export class ServiceDirectory {
  private readonly cache = new Map<string, Entry<unknown>>();
  private readonly templateVersions = new Map<string, string>();
  /** The last branding loaded per service: a logo's bytes are read again only when a new logo is stored. */
  private readonly brandings = new Map<string, ServiceBranding>();

  /** `secrets` opens API keys; a worker-only directory, which never reads keys, may go without. */
  constructor(
    private readonly db: Db,
    private readonly secrets: SecretBox | null,
    private readonly ttlMs = 5_000,
  ) {}

  invalidate(serviceId?: string): void {
    if (!serviceId) {
      this.cache.clear();
      return;
    }
    for (const key of this.cache.keys()) if (key.includes(serviceId)) this.cache.delete(key);
  }

  private cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.cache.get(key) as Entry<T> | undefined;
    if (hit && hit.expires > now) return hit.value;
    const value = load();
    this.cache.set(key, { value, expires: now + this.ttlMs });
    value.catch(() => this.cache.delete(key));
    return value;
  }

  service(id: string): Promise<ServiceRecord | null> {
    return this.cached(`service:${id}`, async () => {
      const row = await findServiceById(this.db, id);
      if (!row) return null;
      return {
        id: row.id,
        name: row.name,
        active: row.active,
        restricted: row.restricted,
        permissions: new Set(row.permissions),
        messageLimits: {
          email: row.email_message_limit,
          sms: row.sms_message_limit,
          international_sms: row.international_sms_message_limit,
        },
        rateLimit: row.rate_limit,
        maxRows: row.max_rows,
        emailSenderLocalPart: row.email_sender_local_part,
        emailSenderName: row.email_sender_name,
        inboundNumber: row.inbound_number,
      };
    });
  }

  /** The From line and branding of a service's messages; null when the service is gone. */
  senderProfile(serviceId: string): Promise<SenderProfile | null> {
    return this.cached(`sender-profile:${serviceId}`, async () => {
      const [service, brandings] = await Promise.all([
        this.service(serviceId),
        loadBrandings(this.db, [serviceId], (id) => this.brandings.get(id)),
      ]);
      if (!service) return null;
      const branding = brandings.get(serviceId) ?? NO_BRANDING;
      this.brandings.set(serviceId, branding);
      return {
        name: service.emailSenderName ?? service.name,
        emailSenderLocalPart: service.emailSenderLocalPart,
        branding,
      };
    });
  }

  /** The content of a template version, if loaded by loadTemplateVersions(). */
  templateVersion(templateId: string, version: number): string | undefined {
    return this.templateVersions.get(`${templateId}:${version}`);
  }

  /** Loads the versions not held yet, in one query. */
  async loadTemplateVersions(wanted: readonly { id: string; version: number }[]): Promise<void> {
    const missing = new Map<string, { id: string; version: number }>();
    for (const w of wanted) {
      const key = `${w.id}:${w.version}`;
      if (!this.templateVersions.has(key)) missing.set(key, w);
    }
    if (missing.size === 0) return;
    const found = await findTemplateVersions(this.db, [...missing.values()]);
    for (const t of found) {
      if (this.templateVersions.size >= TEMPLATE_VERSIONS_MAX) {
        this.templateVersions.delete(this.templateVersions.keys().next().value!);
      }
      this.templateVersions.set(`${t.id}:${t.version}`, t.content);
    }
  }

  apiKeys(serviceId: string): Promise<ApiKeyRecord[]> {
    return this.cached(`keys:${serviceId}`, async () => {
      const rows = await listServiceApiKeys(this.db, serviceId);
      return rows.map((r) => ({
        id: r.id,
        serviceId: r.service_id,
        name: r.name,
        keyType: r.key_type,
        secret: this.opener().open(r.secret_sealed),
        revoked: r.expiry_date !== null && r.expiry_date.getTime() <= Date.now(),
      }));
    });
  }

  /**
   * The key whose secret has this keyed digest, for the ApiKey-v1 scheme. Not cached: it is keyed by secret. While
   * the secret key is rotated, a key not yet re-sealed has its digest under a previous key: each is tried in turn.
   */
  async apiKeyBySecret(secret: string): Promise<ApiKeyRecord | null> {
    for (const digest of this.opener().digests(secret)) {
      const serviceId = await findApiKeyServiceByDigest(this.db, digest);
      if (serviceId) return (await this.apiKeys(serviceId)).find((k) => k.secret === secret) ?? null;
    }
    return null;
  }

  private opener(): SecretBox {
    if (!this.secrets)
      throw new Error('this service directory was made without the secret key: it cannot read API keys');
    return this.secrets;
  }

  template(serviceId: string, templateId: string): Promise<TemplateRecord | null> {
    return this.cached(`template:${serviceId}:${templateId}`, async () => {
      const row = await findTemplate(this.db, serviceId, templateId);
      return row ? toTemplate(row) : null;
    });
  }

  /** Normalised emails and phone numbers a restricted service or a team key may send to. */
  allowedRecipients(serviceId: string): Promise<Set<string>> {
    return this.cached(`allowed:${serviceId}`, async () => {
      const [team, guests] = await Promise.all([teamContacts(this.db, serviceId), guestRecipients(this.db, serviceId)]);
      const allowed = new Set<string>();
      for (const member of team) {
        allowed.add(member.email_address.toLowerCase());
        if (member.mobile_number) allowed.add(member.mobile_number);
      }
      for (const guest of guests) allowed.add(guest);
      return allowed;
    });
  }

  replyTos(serviceId: string): Promise<SenderRecord[]> {
    return this.senders(serviceId, 'reply-to');
  }

  smsSenders(serviceId: string): Promise<SenderRecord[]> {
    return this.senders(serviceId, 'sms-sender');
  }

  /** A service's active reply-to addresses or text senders. */
  private senders(serviceId: string, kind: SenderKind): Promise<SenderRecord[]> {
    return this.cached(`${kind}:${serviceId}`, async () =>
      (await listSenders(this.db, kind, serviceId))
        .filter((s) => !s.archived)
        .map((s) => ({ id: s.id, value: s.value, isDefault: s.isDefault })),
    );
  }
}

export function toTemplate(row: {
  id: string;
  service_id: string;
  name: string;
  type: TemplateType;
  subject: string | null;
  content: string;
  category: TemplateCategory;
  version: number;
  archived?: boolean;
  hidden?: boolean;
  created_at: Date;
  updated_at: Date | null;
  created_by: string | null;
}): TemplateRecord {
  return {
    id: row.id,
    serviceId: row.service_id,
    name: row.name,
    type: row.type,
    subject: row.subject,
    content: row.content,
    category: row.category,
    version: row.version,
    archived: row.archived ?? false,
    hidden: row.hidden ?? false,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    createdBy: row.created_by,
  };
}
