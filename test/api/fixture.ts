/** Services the API tests provision: a live one, a second one for isolation checks, and one in trial mode. */
import type { BootstrapFile } from '../../src/notify/provisioning/bootstrap-file.ts';

export const LIVE_ID = '11111111-1111-4111-8111-111111111111';
export const OTHER_ID = '22222222-2222-4222-8222-222222222222';
export const TRIAL_ID = '33333333-3333-4333-8333-333333333333';

export const TEAM_EMAIL = 'member@example.gc.ca';
export const TEAM_MOBILE = '+16135550134';
export const GUEST_EMAIL = 'guest@example.com';

const emailTemplate = {
  key: 'email',
  type: 'email' as const,
  versions: [
    { name: 'Email v1', subject: 'Old subject', content: 'Old body ((name))' },
    {
      name: 'Functional test email',
      subject: 'Functional Tests are good',
      content: 'Hello ((name))\r\n\r\nFunctional test help make our world a better place',
    },
  ],
};
const smsTemplate = {
  key: 'sms',
  type: 'sms' as const,
  versions: [
    { name: 'Functional test sms', content: 'Hello ((name))\r\n\r\nFunctional Tests make our world a better place' },
  ],
};

export function fixture(): BootstrapFile {
  return {
    services: [
      {
        name: 'Live service',
        id: LIVE_ID,
        restricted: false,
        permissions: ['email', 'sms', 'inbound_sms'],
        message_limit: { email: 100_000, sms: 100_000, international_sms: 100 },
        rate_limit: 100_000,
        email_sender: 'live.service',
        team: [{ name: 'Team Member', email: TEAM_EMAIL, mobile: TEAM_MOBILE }],
        guest_list: [GUEST_EMAIL],
        reply_to: ['reply@example.gc.ca', { email: 'other-reply@example.gc.ca' }],
        sms_senders: [{ sender: 'Envoi', default: true }, 'Second'],
        inbound_number: '+16135550100',
        templates: [
          emailTemplate,
          smsTemplate,
          {
            key: 'archived',
            type: 'email',
            archived: true,
            versions: [{ name: 'Old', subject: 'Old', content: 'Gone' }],
          },
          {
            key: 'urgent',
            type: 'sms',
            category: 'high',
            versions: [{ name: 'Urgent code', content: 'Your code is ((code))' }],
          },
        ],
        api_keys: [
          { name: 'live', type: 'normal' },
          { name: 'team', type: 'team' },
          { name: 'test', type: 'test' },
          { name: 'revoked', type: 'normal', revoked: true },
        ],
        received_texts: [
          { from: '+16135550188', content: 'First reply' },
          { from: '+16135550189', content: 'Second reply' },
        ],
      },
      {
        name: 'Other service',
        id: OTHER_ID,
        restricted: false,
        permissions: ['email', 'sms'],
        templates: [{ ...emailTemplate, key: 'other-email' }],
        api_keys: [{ name: 'other', type: 'normal' }],
        received_texts: [],
      },
      {
        name: 'Trial service',
        id: TRIAL_ID,
        restricted: true,
        permissions: ['email'],
        message_limit: { email: 3, sms: 3 },
        team: [{ name: 'Trial Member', email: 'trial.member@example.gc.ca' }],
        guest_list: [GUEST_EMAIL],
        templates: [{ ...emailTemplate, key: 'trial-email' }],
        api_keys: [
          { name: 'trial', type: 'normal' },
          { name: 'trial-test', type: 'test' },
        ],
      },
    ],
  };
}
