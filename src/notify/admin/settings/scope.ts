import type { FastifyReply } from 'fastify';
import { html, type HtmlValue } from '../../../platform/ui/html.ts';
import { errorSummary, type FieldError } from '../../../platform/ui/layout.ts';
import type { UiContext } from '../../../platform/ui/context.ts';
import { requireService, type ServiceContext } from '../../../platform/ui/service-context.ts';
import { sendServicePage, servicePath } from '../../../platform/ui/service-layout.ts';
import type { NotifyAdminDeps } from '../admin-deps.ts';
import { serviceSettings, type ServiceSettings } from '../../settings/service-settings.ts';

export type Form = Record<string, string | string[] | undefined>;

export const text = (value: unknown): string =>
  (typeof value === 'string' ? value : Array.isArray(value) && typeof value[0] === 'string' ? value[0] : '').trim();
export const DONE = [
  'name',
  'email-sender',
  'reply-to',
  'sms-senders',
  'retention',
  'callbacks',
  'branding',
  'go-live',
] as const;

export const SENDER_LISTS = {
  'reply-to': { table: 'email_reply_to', words: 'settings.replyTo' },
  'sms-senders': { table: 'sms_senders', words: 'settings.smsSenders' },
} as const;
export type SenderList = keyof typeof SENDER_LISTS;

export function settingsScope(deps: NotifyAdminDeps) {
  const db = deps.services.database.db;
  const { config, directory, secrets } = deps.services;
  const manager = requireService(db, 'manage_service');
  const path = (s: ServiceContext, p = '') => servicePath(s, `/settings${p}`);
  const done = (reply: FastifyReply, s: ServiceContext, what: (typeof DONE)[number]) => {
    directory.invalidate(s.id);
    return reply.redirect(`${path(s)}?done=${what}`, 303);
  };

  const page = (
    reply: FastifyReply,
    ui: UiContext,
    service: ServiceContext,
    title: string,
    body: HtmlValue,
    errors?: FieldError[],
    status = 200,
  ) =>
    sendServicePage(
      reply,
      ui,
      service,
      'settings',
      {
        title,
        errors,
        body: html`${errorSummary(ui, errors)}<h1>${title}</h1>${body}<p><a href="${path(service)}">${ui.t('settings.back')}</a></p>`,
      },
      status,
    );

  const load = async (service: ServiceContext): Promise<ServiceSettings> => (await serviceSettings(db, service.id))!;
  return { db, config, directory, secrets, manager, path, done, page, load };
}
