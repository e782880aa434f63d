/** Services the bulk sending tests provision, and helpers to send lists and read what became of them. */
import type { BootstrapFile } from '../../src/notify/provisioning/bootstrap-file.ts';
import type { RunningEnvoi } from '../support/envoi.ts';
import { call } from '../api/helpers.ts';
import { GUEST_EMAIL, TEAM_EMAIL, TEAM_MOBILE } from '../api/fixture.ts';

export const LIVE_ID = 'a1111111-1111-4111-8111-111111111111';
export const TRIAL_ID = 'a3333333-3333-4333-8333-333333333333';
export const SMALL_ID = 'a4444444-4444-4444-8444-444444444444';

export { TEAM_EMAIL } from '../api/fixture.ts';

export function fixture(): BootstrapFile {
  return {
    services: [
      {
        name: 'Bulk live service',
        id: LIVE_ID,
        restricted: false,
        permissions: ['email', 'sms'],
        message_limit: { email: 100_000, sms: 100_000, international_sms: 10 },
        rate_limit: 100_000,
        email_sender: 'bulk.live',
        team: [{ name: 'Team Member', email: TEAM_EMAIL, mobile: TEAM_MOBILE }],
        guest_list: [GUEST_EMAIL],
        reply_to: ['reply@example.gc.ca', 'other-reply@example.gc.ca'],
        sms_senders: [{ sender: 'Envoi', default: true }, 'Second'],
        templates: [
          {
            key: 'email',
            type: 'email',
            versions: [
              { name: 'Hello email', subject: 'Hello ((name))', content: 'Hello ((name)), your code is ((code)).' },
            ],
          },
          {
            key: 'plain',
            type: 'email',
            category: 'high',
            versions: [{ name: 'Plain', subject: 'Notice', content: 'A notice for you.' }],
          },
          { key: 'sms', type: 'sms', versions: [{ name: 'Hello sms', content: 'Hello ((name))' }] },
          {
            key: 'archived',
            type: 'email',
            archived: true,
            versions: [{ name: 'Old', subject: 'Old', content: 'Gone' }],
          },
        ],
        api_keys: [
          { name: 'live', type: 'normal' },
          { name: 'team', type: 'team' },
          { name: 'test', type: 'test' },
        ],
      },
      {
        name: 'Bulk trial service',
        id: TRIAL_ID,
        restricted: true,
        permissions: ['email'],
        message_limit: { email: 3, sms: 3 },
        team: [{ name: 'Trial Member', email: 'trial.member@example.gc.ca' }],
        guest_list: [GUEST_EMAIL],
        templates: [
          { key: 'email', type: 'email', versions: [{ name: 'Trial email', subject: 'Hi', content: 'Hi ((name))' }] },
          { key: 'sms', type: 'sms', versions: [{ name: 'Trial sms', content: 'Hi' }] },
        ],
        api_keys: [{ name: 'trial', type: 'normal' }],
      },
      {
        name: 'Bulk small service',
        id: SMALL_ID,
        restricted: false,
        permissions: ['email'],
        max_rows: 5,
        rate_limit: 2,
        templates: [
          { key: 'email', type: 'email', versions: [{ name: 'Small', subject: 'Hi', content: 'Hi ((name))' }] },
        ],
        api_keys: [{ name: 'small', type: 'normal' }],
      },
    ],
  };
}

export interface Provisioned {
  templates: Record<string, string>;
  keys: Record<string, string>;
  replyTo: Record<string, string>;
  smsSenders: Record<string, string>;
}

export function provisioned(envoi: RunningEnvoi, serviceId: string): Provisioned {
  const s = envoi.provisioned.services.find((x) => x.id === serviceId)!;
  return { templates: s.templates, keys: s.api_keys, replyTo: s.reply_to, smsSenders: s.sms_senders };
}

/** POST /v2/notifications/bulk. */
export function postBulk(envoi: RunningEnvoi, key: string, body: unknown) {
  return call(envoi.url, 'POST', '/v2/notifications/bulk', { key, json: body });
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** GETs the job until its status is one of `statuses` (at most ~20 s); returns the last `data`. */
export async function waitForJob(envoi: RunningEnvoi, key: string, jobId: string, statuses: string[] = ['finished']) {
  let data: any;
  for (let i = 0; i < 400; i++) {
    const res = await call(envoi.url, 'GET', `/v2/notifications/bulk/${jobId}`, { key });
    data = res.body.data;
    if (statuses.includes(data?.job_status)) return data;
    await pause(50);
  }
  return data;
}

/** `email address,name,code` rows for n recipients. */
export function emailRows(n: number, start = 0): string[][] {
  const rows = [['email address', 'name', 'code']];
  for (let i = start; i < start + n; i++) rows.push([`person${i}@example.com`, `Person ${i}`, `C${i}`]);
  return rows;
}
