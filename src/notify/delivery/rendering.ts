/**
 * Rendering for the delivery worker: a claimed notification row becomes the message a provider takes, with its
 * service's From line and branding. What a batch needs (sender profiles, template versions) comes from the shared
 * ServiceDirectory, loaded once per batch before any row is rendered.
 */
import type { ServiceDirectory, SenderProfile } from '../sending/service-directory.ts';
import { emailBranding, inlineImages, logoCid } from '../settings/email-branding.ts';
import { emailPlainText, renderEmailDocument, renderEmailHtml, smsFragmentCount } from '../template-language/index.ts';
import type { EmailMessage, SmsMessage } from './providers/types.ts';

export interface ClaimedNotification {
  id: string;
  service_id: string;
  template_id: string;
  template_version: number;
  key_type: string;
  notification_type: 'email' | 'sms';
  to: string;
  normalised_to: string;
  personalisation: unknown;
  subject: string | null;
  body: string;
  reply_to_text: string | null;
  one_click_unsubscribe_url: string | null;
  priority: number;
  next_attempt_at: Date;
  attempts: number;
  created_at: Date;
  scheduled_for: Date | null;
}

export interface Renderer {
  /** Loads what the batch's rows need; throws if the database cannot be read. */
  load(rows: readonly ClaimedNotification[]): Promise<void>;
  /** Throws when the row cannot be rendered (its service or template version is gone): it never will be. */
  email(row: ClaimedNotification): EmailMessage;
  sms(row: ClaimedNotification): SmsMessage;
}

export function createRenderer(directory: ServiceDirectory, emailDomain: string, bounces: boolean): Renderer {
  const profiles = new Map<string, SenderProfile | null>();
  return {
    async load(rows) {
      // Only the batch in hand reads these (a row is rendered as it starts): the map need not outlive it.
      if (profiles.size > 1_000) profiles.clear();
      const serviceIds = [...new Set(rows.map((r) => r.service_id))];
      const found = await Promise.all(serviceIds.map((id) => directory.senderProfile(id)));
      for (const [i, id] of serviceIds.entries()) profiles.set(id, found[i] ?? null);
      // Live email rows need their template version: the HTML part is rendered from its content with the stored
      // personalisation, so that values are escaped as HTML rather than read as markdown.
      await directory.loadTemplateVersions(
        rows
          .filter((r) => r.notification_type === 'email' && r.key_type !== 'test')
          .map((r) => ({ id: r.template_id, version: r.template_version })),
      );
    },
    email(row) {
      const service = profiles.get(row.service_id);
      if (!service) throw new Error(`service ${row.service_id} not found`);
      const content = directory.templateVersion(row.template_id, row.template_version);
      if (content === undefined)
        throw new Error(`template ${row.template_id} version ${row.template_version} not found`);
      return buildEmail(row, service, content, emailDomain, bounces);
    },
    sms(row) {
      return {
        notificationId: row.id,
        serviceId: row.service_id,
        to: row.normalised_to,
        // The API keeps the chosen SMS sender in reply_to_text, as Notify does; the service name otherwise.
        sender: row.reply_to_text ?? profiles.get(row.service_id)?.name ?? null,
        body: row.body,
      };
    },
  };
}

function buildEmail(
  row: ClaimedNotification,
  service: SenderProfile,
  content: string,
  emailDomain: string,
  bounces: boolean,
): EmailMessage {
  const personalisation = parsePersonalisation(row.personalisation);
  const subject = row.subject ?? '';
  const bodyHtml = renderEmailHtml(content, personalisation);
  const { branding } = service;
  // The language of the email's own words (the header's image and alt text follow it); every email is English
  // first for now.
  const lang = 'en';
  return {
    notificationId: row.id,
    serviceId: row.service_id,
    from: { name: service.name, address: `${service.emailSenderLocalPart}@${emailDomain}` },
    // normalised_to is lower-cased for comparisons; a mailbox's local part may be case-sensitive.
    to: row.to.trim(),
    replyTo: row.reply_to_text,
    subject,
    text: emailPlainText(row.body),
    html: renderEmailDocument({ subject, bodyHtml, lang, branding: emailBranding(branding, logoCid, lang) }),
    messageId: `<${row.id}@${emailDomain}>`,
    bounceAddress: bounces ? `bounce+${row.id}@${emailDomain}` : null,
    unsubscribeUrl: row.one_click_unsubscribe_url,
    inlineImages: inlineImages(branding, lang),
  };
}

/** The body is stored as it goes to the phone, so its fragments are what the message is billed. */
export function smsFragments(row: ClaimedNotification): number {
  return smsFragmentCount(row.body);
}

function parsePersonalisation(value: unknown): Record<string, unknown> {
  if (typeof value === 'string') {
    try {
      return parsePersonalisation(JSON.parse(value));
    } catch {
      return {};
    }
  }
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
