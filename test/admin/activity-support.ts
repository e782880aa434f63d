/**
 * What the "seeing what happened" browser tests share: a running Envoi with one provisioned service, members of it
 * signed in straight into a browser context (a session made for them, as if they had passed the second step;
 * the sign-in journey itself is journeys.test.ts's), and notifications written straight into the table.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import type { RunningEnvoi } from '../support/envoi.ts';
import type { KeyType, TemplateType } from '../../src/notify/vocabulary.ts';
import type { Permission } from '../../src/platform/services/permissions.ts';
import type { BootstrapFile } from '../../src/notify/provisioning/bootstrap-file.ts';
import { memberSession } from '../support/sessions.ts';

export const TEAM_EMAIL = 'pat.member@tbs-sct.gc.ca';
export const TEAM_MOBILE = '+16135550199';

/** A trial service with an email and a text template, one member, and a live key. */
export function serviceFile(name = 'Benefits Service'): BootstrapFile {
  return {
    services: [
      {
        name,
        team: [{ name: 'Pat Member', email: TEAM_EMAIL, mobile: TEAM_MOBILE }],
        templates: [
          {
            key: 'email',
            type: 'email',
            versions: [
              {
                name: 'Application received',
                subject: 'We got your application, ((name))',
                content: 'Hello ((name)),\n\nWe received your application.',
              },
            ],
          },
          {
            key: 'sms',
            type: 'sms',
            versions: [{ name: 'Appointment reminder', content: 'Reminder: your appointment is tomorrow, ((name)).' }],
          },
        ],
        api_keys: [{ name: 'bootstrap live', type: 'normal' }],
      },
    ],
  };
}

/** A browser context signed in as the member with `email` (made if missing, with `permissions` in the service). */
export async function signedInPage(
  envoi: RunningEnvoi,
  browser: Browser,
  opts: { serviceId: string; email: string; locale: 'en-CA' | 'fr-CA'; permissions?: readonly Permission[] },
): Promise<Page> {
  const token = await memberSession(envoi.database.db, opts.email, opts);
  const context = await browser.newContext({ locale: opts.locale });
  await context.addCookies([{ name: 'envoi_session', value: token, url: envoi.url }]);
  return context.newPage();
}

export interface RowSpec {
  templateId: string;
  type: TemplateType;
  to: string;
  normalisedTo?: string;
  status: string;
  createdAt?: Date;
  keyType?: KeyType;
  reference?: string | null;
}

/** Notification rows as the API would have written them, with a status and a creation time. */
export async function insertRows(envoi: RunningEnvoi, serviceId: string, rows: RowSpec[]): Promise<string[]> {
  const values = rows.map((r) => {
    const createdAt = r.createdAt ?? new Date();
    return {
      id: randomUUID(),
      service_id: serviceId,
      template_id: r.templateId,
      template_version: 1,
      key_type: r.keyType ?? 'normal',
      notification_type: r.type,
      to: r.to,
      normalised_to: r.normalisedTo ?? r.to.toLowerCase(),
      client_reference: r.reference ?? null,
      body: 'body',
      status: r.status,
      created_at: createdAt,
      next_attempt_at: createdAt,
      sent_at: r.status === 'created' ? null : createdAt,
      updated_at: r.status === 'created' ? null : createdAt,
    };
  });
  await envoi.database.db.insertInto('notifications').values(values).execute();
  return values.map((v) => v.id);
}

export const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000);
