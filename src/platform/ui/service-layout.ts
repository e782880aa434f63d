/**
 * The frame of every page of one service: its name, a trial or suspended banner, and the service's menu, showing
 * only what the signed-in person may use. Routes render their content and hand it to sendServicePage.
 */
import type { FastifyReply } from 'fastify';
import type { UiContext } from './context.ts';
import { html, type Html } from './html.ts';
import { sendPage, type PageOptions } from './layout.ts';
import type { Permission } from '../services/permissions.ts';
import type { ServiceContext } from './service-context.ts';

export type ServiceArea =
  | 'dashboard'
  | 'templates'
  | 'activity'
  | 'suppressions'
  | 'team'
  | 'settings'
  | 'api'
  | 'outbox';

interface MenuItem {
  area: ServiceArea;
  path: string;
  /** Shown only to those who have it; null: every member. */
  permission: Permission | null;
}

const MENU: readonly MenuItem[] = [
  { area: 'dashboard', path: '', permission: null },
  { area: 'templates', path: '/templates', permission: null },
  { area: 'activity', path: '/activity', permission: 'view_activity' },
  { area: 'suppressions', path: '/suppressions', permission: 'view_activity' },
  { area: 'team', path: '/team', permission: null },
  { area: 'settings', path: '/settings', permission: 'manage_service' },
  { area: 'api', path: '/api', permission: 'manage_api_keys' },
  { area: 'outbox', path: '/outbox', permission: 'view_activity' },
];

export function servicePath(service: Pick<ServiceContext, 'id'>, path = ''): string {
  return `/services/${service.id}${path}`;
}

export function serviceFrame(ui: UiContext, service: ServiceContext, current: ServiceArea, content: Html): Html {
  const { t } = ui;
  const items = MENU.filter(
    (m) => (m.permission === null || service.permissions.has(m.permission)) && (m.area !== 'outbox' || ui.showOutbox),
  );
  return html`<div class="service-frame">
  <p class="service-name"><span class="visually-hidden">${t('service.current')} </span>${service.name}
    <a class="switch" href="/services">${t('service.switch')}</a></p>
  ${!service.active && html`<div class="notice warning" role="status">${t('service.suspended')}</div>`}
  ${service.active && service.restricted && html`<div class="notice info" role="status">${t('service.trial')}</div>`}
  <nav class="service-nav" aria-label="${t('service.menuLabel')}"><ul>
    ${items.map(
      (m) =>
        html`<li><a href="${servicePath(service, m.path)}"${m.area === current ? html` aria-current="page"` : ''}>${t(`service.menu.${m.area}`)}</a></li>`,
    )}
  </ul></nav>
  <div class="service-content">${content}</div>
</div>`;
}

/** A page inside a service: the service frame around `body`, in the site layout. */
export function sendServicePage(
  reply: FastifyReply,
  ui: UiContext,
  service: ServiceContext,
  current: ServiceArea,
  opts: PageOptions,
  status = 200,
): FastifyReply {
  return sendPage(reply, ui, { ...opts, body: serviceFrame(ui, service, current, html`${opts.body}`) }, status);
}

/** The 404 page of something that is not in this service (a template, a message, an upload), inside its frame. */
export function sendServiceNotFound(
  reply: FastifyReply,
  ui: UiContext,
  service: ServiceContext,
  current: ServiceArea,
): FastifyReply {
  const { t } = ui;
  return sendServicePage(
    reply,
    ui,
    service,
    current,
    { title: t('notFound.title'), body: html`<h1>${t('notFound.title')}</h1><p>${t('notFound.body')}</p>` },
    404,
  );
}
