/** How the platform admin's audit log shows each event's details. */
import { html, type Html, type HtmlValue } from '../../ui/html.ts';
import type { UiContext } from '../../ui/context.ts';
import type { AuditEntry } from '../../audit.ts';
const LIMITS = ['email', 'sms', 'internationalSms'] as const;

/**
 * An event's details as a list of "label: value" lines in the page's language: the service linked, the API or
 * security key, permissions and limits before and after, enumerated values translated, numbers and dates formatted.
 * Keys it does not know are shown as they are, so nothing recorded is hidden from the admin.
 */
export function auditDetails(ui: UiContext, entry: AuditEntry): Html | string {
  const { t } = ui;
  const rest = new Map(Object.entries(entry.details));
  const take = (key: string): unknown => {
    const value = rest.get(key);
    rest.delete(key);
    return value;
  };
  const items: Array<{ label: string; value: HtmlValue }> = [];
  const add = (labelKey: string, value: HtmlValue) => items.push({ label: t(labelKey), value });
  // A value of a known set (a key type, a permission, a channel…) in words; anything else as it was recorded.
  const named = (prefix: string, value: unknown): string => {
    if (typeof value !== 'string') return plain(ui, value);
    const words = t(`${prefix}${value}`);
    return words === `${prefix}${value}` ? value : words;
  };
  const permissions = (value: unknown): string =>
    !Array.isArray(value)
      ? plain(ui, value)
      : value.length === 0
        ? t('team.permission.none')
        : value.map((p) => named('team.permission.', p)).join(', ');

  const serviceId = take('serviceId');
  const serviceName = take('serviceName');
  if (entry.service?.name != null)
    add('audit.detail.service', html`<a href="/services/${entry.service.id}">${entry.service.name}</a>`);
  else if (serviceId !== undefined || serviceName !== undefined)
    add('audit.detail.service', plain(ui, serviceName ?? serviceId));

  const keyName = take('keyName');
  const keyId = take('keyId');
  const keyType = take('keyType');
  if (keyName !== undefined || keyId !== undefined || keyType !== undefined) {
    const name = plain(ui, keyName ?? keyId);
    add(
      'audit.detail.apiKey',
      keyType === undefined ? name : t('audit.detail.keyWithType', { name, type: named('api.keyType.', keyType) }),
    );
  }
  if (rest.has('method')) add('audit.detail.method', named('twoStep.method.', take('method')));
  if (rest.has('securityKeyName')) add('audit.detail.securityKey', plain(ui, take('securityKeyName')));
  if (rest.has('via')) add('audit.detail.via', named('audit.via.', take('via')));
  if (rest.has('email')) add('audit.detail.email', plain(ui, take('email')));

  const recipient = take('recipient');
  const channel = take('channel');
  if (recipient !== undefined) {
    add(
      'audit.detail.recipient',
      channel === undefined
        ? plain(ui, recipient)
        : t('audit.detail.recipientWithChannel', {
            recipient: plain(ui, recipient),
            channel: named('suppressions.channel.', channel),
          }),
    );
  } else if (channel !== undefined) add('audit.detail.channel', named('suppressions.channel.', channel));
  // A suppression's reason is one of a few; a declined request to go live has the admin's own words.
  if (rest.has('reason'))
    add(
      'audit.detail.reason',
      entry.event === 'suppression-removed' ? named('suppressions.reason.', take('reason')) : plain(ui, take('reason')),
    );
  if (rest.has('until')) {
    const until = take('until');
    const date = typeof until === 'string' ? new Date(until) : null;
    add('audit.detail.until', date && !Number.isNaN(date.getTime()) ? ui.formatDateTime(date) : plain(ui, until));
  }
  if (rest.has('permissions')) add('audit.detail.permissions', permissions(take('permissions')));

  items.push(...changes(ui, rest, permissions));

  for (const [key, value] of rest) items.push({ label: key, value: plain(ui, value) });
  if (items.length === 0) return '–';
  return html`<ul class="audit-details">${items.map((i) => html`<li>${t('audit.detail.line', { label: i.label })} ${i.value}</li>`)}</ul>`;
}

/** A value before and after, with the arrow read out as words. */
function change(ui: UiContext, before: HtmlValue, after: HtmlValue): Html {
  return html`${before} <span aria-hidden="true">→</span><span class="visually-hidden"> ${ui.t('audit.detail.becomes')}</span> ${after}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A recorded value as text: numbers in the page's language, lists joined, anything else as JSON. */
function plain(ui: UiContext, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return ui.formatNumber(value);
  if (value === null || value === undefined) return '–';
  if (Array.isArray(value)) return value.map((v) => plain(ui, v)).join(', ');
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** The "before" and "after" of a change: permissions, or the limits that changed (every one when none did). */
function changes(
  ui: UiContext,
  rest: Map<string, unknown>,
  permissions: (value: unknown) => string,
): Array<{ label: string; value: HtmlValue }> {
  const { t } = ui;
  const items: Array<{ label: string; value: HtmlValue }> = [];
  const take = (key: string) => rest.delete(key);
  const add = (labelKey: string, value: HtmlValue) => items.push({ label: t(labelKey), value });
  const before = rest.get('before');
  const after = rest.get('after');
  if (Array.isArray(before) || Array.isArray(after)) {
    take('before');
    take('after');
    add(
      'audit.detail.permissions',
      before === undefined ? permissions(after) : change(ui, permissions(before), permissions(after)),
    );
  } else if (isRecord(after) && (before === undefined || isRecord(before))) {
    take('before');
    take('after');
    // Limits: those that changed, before and after; every one when the row has no "before" or nothing changed.
    const keys = [
      ...LIMITS.filter((k) => k in after),
      ...Object.keys(after).filter((k) => !(LIMITS as readonly string[]).includes(k)),
    ];
    const changed = before ? keys.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k])) : [];
    for (const k of changed.length ? changed : keys) {
      const label = (LIMITS as readonly string[]).includes(k) ? t(`settings.limits.${k}`) : k;
      items.push({
        label,
        value: before && changed.length ? change(ui, plain(ui, before[k]), plain(ui, after[k])) : plain(ui, after[k]),
      });
    }
  }

  return items;
}
