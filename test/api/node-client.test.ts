/**
 * The official notifications-node-client (8.4.0, unmodified) against a running Envoi: every method a service
 * uses, every response checked against the contract's schemas and the exact strings the client tests expect.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEnvoi, type RunningEnvoi } from '../support/envoi.ts';
import { fixture, LIVE_ID, TEAM_EMAIL, TEAM_MOBILE } from './fixture.ts';
import {
  clientFailure,
  expectLink,
  insertNotifications,
  notificationRow,
  NotifyClient,
  type NotifyClientInstance,
} from './helpers.ts';
import { expectSchema } from './response-schemas.ts';

const EMAIL_BODY = 'Hello Foo\r\n\r\nFunctional test help make our world a better place';
const EMAIL_SUBJECT = 'Functional Tests are good';
const SMS_BODY = 'Hello Foo\n\nFunctional Tests make our world a better place';

let envoi: RunningEnvoi;
let live: RunningEnvoi['provisioned']['services'][number];
let other: RunningEnvoi['provisioned']['services'][number];
let liveClient: NotifyClientInstance;
let teamClient: NotifyClientInstance;
let testClient: NotifyClientInstance;

beforeAll(async () => {
  envoi = await startEnvoi({ bootstrap: fixture() });
  [live, other] = envoi.provisioned.services;
  liveClient = new NotifyClient(envoi.url, live.api_keys.live);
  teamClient = new NotifyClient(envoi.url, live.api_keys.team);
  testClient = new NotifyClient(envoi.url, live.api_keys.test);
});

afterAll(async () => {
  await envoi?.stop();
});

describe('sendEmail', () => {
  it('sends with personalisation and reference, and answers 201 with the rendered email', async () => {
    const res = await liveClient.sendEmail(live.templates.email, 'someone@example.com', {
      personalisation: { name: 'Foo' },
      reference: 'client-ref',
    });
    expect(res.status).toBe(201);
    expectSchema('postEmailResponse', res.data);
    const id = res.data.id;
    expect(res.data).toEqual({
      id,
      reference: 'client-ref',
      uri: `${envoi.url}/v2/notifications/${id}`,
      template: {
        id: live.templates.email,
        version: 2,
        uri: `${envoi.url}/services/${LIVE_ID}/templates/${live.templates.email}`,
      },
      scheduled_for: null,
      content: {
        from_email: 'live.service@notification.localhost',
        body: EMAIL_BODY,
        subject: EMAIL_SUBJECT,
        one_click_unsubscribe_url: null,
      },
      sanitised_content: {},
    });
  });

  it('accepts emailReplyToId and keeps that address as the reply-to', async () => {
    const replyToId = live.reply_to['other-reply@example.gc.ca'];
    const res = await liveClient.sendEmail(live.templates.email, 'someone@example.com', {
      personalisation: { name: 'Foo' },
      emailReplyToId: replyToId,
    });
    expect(res.status).toBe(201);
    expectSchema('postEmailResponse', res.data);
    const row = await envoi.database.db
      .selectFrom('notifications')
      .select('reply_to_text')
      .where('id', '=', res.data.id)
      .executeTakeFirstOrThrow();
    expect(row.reply_to_text).toBe('other-reply@example.gc.ca');
  });

  it('echoes oneClickUnsubscribeURL in the response and in GET', async () => {
    const url = 'https://example.gc.ca/unsubscribe?user=42';
    const res = await liveClient.sendEmail(live.templates.email, 'someone@example.com', {
      personalisation: { name: 'Foo' },
      oneClickUnsubscribeURL: url,
    });
    expect(res.status).toBe(201);
    expectSchema('postEmailResponse', res.data);
    expect(res.data.content.one_click_unsubscribe_url).toBe(url);

    const read = await liveClient.getNotificationById(res.data.id);
    expectSchema('notification', read.data);
    expect((read.data as unknown as { one_click_unsubscribe_url: string }).one_click_unsubscribe_url).toBe(url);
  });

  it('sanitises the values named in sanitiseContentFor and reports them in sanitised_content', async () => {
    const unsanitised = 'User, [click here](https://evil.link)';
    const res = await liveClient.sendEmail(live.templates.email, 'someone@example.com', {
      personalisation: { name: unsanitised },
      sanitiseContentFor: ['name'],
    });
    expect(res.status).toBe(201);
    expectSchema('postEmailResponse', res.data);
    const sanitised = 'User, \\[click here\\]\\(\\)';
    expect(res.data.sanitised_content).toEqual({ name: { unsanitised, sanitised } });
    expect(res.data.content.body).toBe(`Hello ${sanitised}\r\n\r\nFunctional test help make our world a better place`);
  });

  it('matches sanitiseContentFor keys ignoring case, spaces, _ and -, and reports them under the key as sent', async () => {
    const value = '3f9c2a71-5b8e-4d0c-9a6f-1e2d3c4b5a69';
    const res = await liveClient.sendEmail(live.templates.email, 'someone@example.com', {
      personalisation: { Name: value },
      sanitiseContentFor: ['N A_M-E'],
    });
    expect(res.status).toBe(201);
    expect(res.data.sanitised_content).toEqual({
      Name: { unsanitised: value, sanitised: value.replaceAll('-', '\\-') },
    });
  });

  it('reports sanitised_content as {} when sanitising changed nothing', async () => {
    const res = await liveClient.sendEmail(live.templates.email, 'someone@example.com', {
      personalisation: { name: 'Foo' },
      sanitiseContentFor: ['name'],
    });
    expect(res.status).toBe(201);
    expect(res.data.sanitised_content).toEqual({});
    expect(res.data.content.body).toBe(EMAIL_BODY);
  });
});

describe('sendSms', () => {
  it('sends with the service default sender and the normalised body', async () => {
    const res = await liveClient.sendSms(live.templates.sms, TEAM_MOBILE, {
      personalisation: { name: 'Foo' },
      reference: 'sms-ref',
    });
    expect(res.status).toBe(201);
    expectSchema('postSmsResponse', res.data);
    const id = res.data.id;
    expect(res.data).toEqual({
      id,
      reference: 'sms-ref',
      uri: `${envoi.url}/v2/notifications/${id}`,
      template: {
        id: live.templates.sms,
        version: 1,
        uri: `${envoi.url}/services/${LIVE_ID}/templates/${live.templates.sms}`,
      },
      scheduled_for: null,
      content: { from_number: 'Envoi', body: SMS_BODY },
    });
  });

  it('uses the sender chosen with smsSenderId', async () => {
    const res = await liveClient.sendSms(live.templates.sms, '+16135550177', {
      personalisation: { name: 'Foo' },
      smsSenderId: live.sms_senders.Second,
    });
    expect(res.status).toBe(201);
    expectSchema('postSmsResponse', res.data);
    expect(res.data.content).toEqual({ from_number: 'Second', body: SMS_BODY });
  });
});

describe('getNotificationById', () => {
  it('reads with the live key an email sent with the team key', async () => {
    const sent = await teamClient.sendEmail(live.templates.email, TEAM_EMAIL, {
      personalisation: { name: 'Foo' },
      reference: 'team-sent',
    });
    expect(sent.status).toBe(201);

    const res = await liveClient.getNotificationById(sent.data.id);
    expect(res.status).toBe(200);
    expectSchema('notification', res.data);
    expect(res.data).toMatchObject({
      id: sent.data.id,
      reference: 'team-sent',
      email_address: TEAM_EMAIL,
      phone_number: null,
      type: 'email',
      status: 'created',
      body: EMAIL_BODY,
      subject: EMAIL_SUBJECT,
      template: {
        id: live.templates.email,
        version: 2,
        uri: `${envoi.url}/v2/template/${live.templates.email}/version/2`,
      },
      sent_at: null,
      completed_at: null,
      scheduled_for: null,
      created_by_name: null,
      is_cost_data_ready: true,
      cost_in_pounds: 0,
      cost_details: {},
    });
  });

  it('reads a text message: phone number as sent, no subject, cost not ready while created', async () => {
    const sent = await liveClient.sendSms(live.templates.sms, '613 555 0166', { personalisation: { name: 'Foo' } });
    const res = await testClient.getNotificationById(sent.data.id);
    expect(res.status).toBe(200);
    expectSchema('notification', res.data);
    expect(res.data).toMatchObject({
      id: sent.data.id,
      type: 'sms',
      phone_number: '613 555 0166',
      email_address: null,
      body: SMS_BODY,
      subject: null,
      status: 'created',
      is_cost_data_ready: false,
      cost_in_pounds: null,
      cost_details: {},
    });
  });

  it('gives back the email address exactly as the client sent it', async () => {
    const sent = await liveClient.sendEmail(live.templates.email, 'Mixed.Case@Example.com', {
      personalisation: { name: 'Foo' },
    });
    const res = await liveClient.getNotificationById(sent.data.id);
    expect(res.data.email_address).toBe('Mixed.Case@Example.com');
  });

  it('answers 404 NoResultFound for an id the service does not have', async () => {
    const failure = await clientFailure(liveClient.getNotificationById('6a9f3c6e-4b7f-4c1e-9d2a-0f3b5e7c9a11'));
    expect(failure).toEqual({
      status: 404,
      data: { status_code: 404, errors: [{ error: 'NoResultFound', message: 'No result found' }] },
    });
  });
});

describe('getNotifications', () => {
  const base = Date.now() - 3_600_000;
  const at = (secondsBefore: number) => new Date(base - secondsBefore * 1000);
  let statusIds: Record<string, string>;

  beforeAll(async () => {
    const statuses = [
      'created',
      'sending',
      'pending',
      'sent',
      'delivered',
      'permanent-failure',
      'temporary-failure',
      'technical-failure',
    ];
    const rows = statuses.map((status, i) =>
      notificationRow({
        serviceId: LIVE_ID,
        templateId: live.templates.email,
        templateVersion: 2,
        status,
        reference: 'status-mix',
        createdAt: at(i),
      }),
    );
    const ids = await insertNotifications(envoi.database.db, rows);
    statusIds = Object.fromEntries(statuses.map((s, i) => [s, ids[i]]));
  });

  async function idsFor(
    client: NotifyClientInstance,
    type?: string,
    status?: string,
    reference?: string,
    olderThan?: string,
  ) {
    const res = await client.getNotifications(type, status, reference, olderThan);
    expect(res.status).toBe(200);
    expectSchema('notificationList', res.data);
    return res.data.notifications.map((n) => n.id);
  }

  it('filters by status, newest first', async () => {
    expect(await idsFor(liveClient, undefined, 'delivered', 'status-mix')).toEqual([statusIds.delivered]);
    expect(await idsFor(liveClient, undefined, 'pending', 'status-mix')).toEqual([statusIds.pending]);
    expect(await idsFor(liveClient, 'email', undefined, 'status-mix')).toEqual(Object.values(statusIds));
  });

  it('expands the aliases failed, accepted and received', async () => {
    expect(await idsFor(liveClient, undefined, 'failed', 'status-mix')).toEqual([
      statusIds['permanent-failure'],
      statusIds['temporary-failure'],
      statusIds['technical-failure'],
    ]);
    expect(await idsFor(liveClient, undefined, 'accepted', 'status-mix')).toEqual([
      statusIds.created,
      statusIds.sending,
    ]);
    expect(await idsFor(liveClient, undefined, 'received', 'status-mix')).toEqual([statusIds.delivered]);
  });

  it('filters by template_type and by exact reference', async () => {
    const rows = [
      notificationRow({
        serviceId: LIVE_ID,
        templateId: live.templates.email,
        type: 'email',
        reference: 'by-type',
        createdAt: at(1),
      }),
      notificationRow({
        serviceId: LIVE_ID,
        templateId: live.templates.sms,
        type: 'sms',
        reference: 'by-type',
        createdAt: at(2),
      }),
      notificationRow({
        serviceId: LIVE_ID,
        templateId: live.templates.sms,
        type: 'sms',
        reference: 'by-type-2',
        createdAt: at(3),
      }),
    ];
    const [email, sms] = await insertNotifications(envoi.database.db, rows);
    expect(await idsFor(liveClient, 'sms', undefined, 'by-type')).toEqual([sms]);
    expect(await idsFor(liveClient, 'email', undefined, 'by-type')).toEqual([email]);
    expect(await idsFor(liveClient, undefined, undefined, 'by-type')).toEqual([email, sms]);
  });

  it('lists only notifications sent with the caller’s key type', async () => {
    const rows = (['normal', 'team', 'test'] as const).map((keyType, i) =>
      notificationRow({
        serviceId: LIVE_ID,
        templateId: live.templates.email,
        keyType,
        reference: 'key-types',
        status: 'delivered',
        createdAt: at(i),
      }),
    );
    const [normal, team, test] = await insertNotifications(envoi.database.db, rows);
    expect(await idsFor(liveClient, undefined, undefined, 'key-types')).toEqual([normal]);
    expect(await idsFor(teamClient, undefined, undefined, 'key-types')).toEqual([team]);
    expect(await idsFor(testClient, undefined, undefined, 'key-types')).toEqual([test]);
  });

  it('pages 250 at a time with olderThanId across more than 250 rows, with links.current and links.next', async () => {
    const rows = Array.from({ length: 300 }, (_, i) =>
      notificationRow({
        serviceId: LIVE_ID,
        templateId: live.templates.email,
        templateVersion: 2,
        reference: 'paging',
        createdAt: at(100 + i),
      }),
    );
    const inserted = await insertNotifications(envoi.database.db, rows);

    const first = await liveClient.getNotifications('email', undefined, 'paging');
    expectSchema('notificationList', first.data);
    expect(first.data.notifications.map((n) => n.id)).toEqual(inserted.slice(0, 250));
    expectLink(first.data.links.current, envoi.url, '/v2/notifications', {
      template_type: 'email',
      reference: 'paging',
    });
    expectLink(first.data.links.next, envoi.url, '/v2/notifications', {
      template_type: 'email',
      reference: 'paging',
      older_than: inserted[249],
    });

    const second = await liveClient.getNotifications('email', undefined, 'paging', inserted[249]);
    expectSchema('notificationList', second.data);
    expect(second.data.notifications.map((n) => n.id)).toEqual(inserted.slice(250));
    expectLink(second.data.links.current, envoi.url, '/v2/notifications', {
      template_type: 'email',
      reference: 'paging',
      older_than: inserted[249],
    });
    // A short page still has `next`; the clients' iterators stop on the empty page after it.
    expectLink(second.data.links.next, envoi.url, '/v2/notifications', {
      template_type: 'email',
      reference: 'paging',
      older_than: inserted[299],
    });

    const third = await liveClient.getNotifications('email', undefined, 'paging', inserted[299]);
    expectSchema('notificationList', third.data);
    expect(third.data.notifications).toEqual([]);
    expect(third.data.links.next).toBeUndefined();
  });

  // After the paging test above, the service has more than 250 live-key notifications.
  it('answers a full page of 250 when the service has more, unfiltered', async () => {
    const res = await liveClient.getNotifications();
    expectSchema('notificationList', res.data);
    expect(res.data.notifications).toHaveLength(250);
    expectLink(res.data.links.current, envoi.url, '/v2/notifications', {});
    expectLink(res.data.links.next, envoi.url, '/v2/notifications', { older_than: res.data.notifications[249].id });
  });

  it('gives an empty page for an older_than id that does not exist', async () => {
    const res = await liveClient.getNotifications(
      undefined,
      undefined,
      undefined,
      '0b7e2f8a-1c3d-4e5f-8a9b-0c1d2e3f4a5b',
    );
    expectSchema('notificationList', res.data);
    expect(res.data.notifications).toEqual([]);
  });
});

describe('templates', () => {
  it('getTemplateById returns the current version with its raw body and placeholders', async () => {
    const res = await liveClient.getTemplateById(live.templates.email);
    expect(res.status).toBe(200);
    expectSchema('template', res.data);
    expect(res.data).toMatchObject({
      id: live.templates.email,
      type: 'email',
      version: 2,
      name: 'Functional test email',
      body: 'Hello ((name))\r\n\r\nFunctional test help make our world a better place',
      subject: EMAIL_SUBJECT,
      created_by: TEAM_EMAIL,
      personalisation: { name: { required: true } },
      letter_contact_block: null,
      postage: null,
    });
  });

  it('getTemplateById for a text message template has a null subject', async () => {
    const res = await liveClient.getTemplateById(live.templates.sms);
    expectSchema('template', res.data);
    expect(res.data).toMatchObject({ type: 'sms', subject: null, version: 1, name: 'Functional test sms' });
  });

  it('getTemplateByIdAndVersion returns each version as it was', async () => {
    const v1 = await liveClient.getTemplateByIdAndVersion(live.templates.email, 1);
    const v2 = await liveClient.getTemplateByIdAndVersion(live.templates.email, 2);
    expectSchema('template', v1.data);
    expectSchema('template', v2.data);
    expect(v1.data).toMatchObject({
      id: live.templates.email,
      version: 1,
      name: 'Email v1',
      subject: 'Old subject',
      body: 'Old body ((name))',
    });
    expect(v2.data).toMatchObject({
      id: live.templates.email,
      version: 2,
      name: 'Functional test email',
      subject: EMAIL_SUBJECT,
      body: 'Hello ((name))\r\n\r\nFunctional test help make our world a better place',
    });
  });

  it('getTemplateByIdAndVersion with version 0 means the current version', async () => {
    const res = await liveClient.getTemplateByIdAndVersion(live.templates.email, 0);
    expectSchema('template', res.data);
    expect(res.data.version).toBe(2);
  });

  it('getTemplateByIdAndVersion answers 404 for a version that does not exist', async () => {
    const failure = await clientFailure(liveClient.getTemplateByIdAndVersion(live.templates.email, 3));
    expect(failure).toEqual({
      status: 404,
      data: { status_code: 404, errors: [{ error: 'NoResultFound', message: 'No result found' }] },
    });
  });

  it('getTemplateById still returns an archived template', async () => {
    const res = await liveClient.getTemplateById(live.templates.archived);
    expectSchema('template', res.data);
    expect(res.data).toMatchObject({ id: live.templates.archived, name: 'Old', body: 'Gone' });
  });

  it('getAllTemplates lists the service’s templates by name, leaves out archived ones, and filters by type', async () => {
    const all = await liveClient.getAllTemplates();
    expect(all.status).toBe(200);
    expectSchema('templateList', all.data);
    expect(all.data.templates.map((t) => t.id)).toEqual([
      live.templates.email,
      live.templates.sms,
      live.templates.urgent,
    ]);

    const sms = await liveClient.getAllTemplates('sms');
    expectSchema('templateList', sms.data);
    expect(sms.data.templates.map((t) => t.id)).toEqual([live.templates.sms, live.templates.urgent]);

    const email = await liveClient.getAllTemplates('email');
    expectSchema('templateList', email.data);
    expect(email.data.templates.map((t) => t.id)).toEqual([live.templates.email]);

    const letter = await liveClient.getAllTemplates('letter');
    expectSchema('templateList', letter.data);
    expect(letter.data.templates).toEqual([]);
  });

  it('previewTemplateById renders an email with its subject and HTML', async () => {
    const res = await liveClient.previewTemplateById(live.templates.email, { name: 'Foo' });
    expect(res.status).toBe(200);
    expectSchema('templatePreview', res.data);
    expect(res.data).toMatchObject({
      id: live.templates.email,
      type: 'email',
      version: 2,
      body: EMAIL_BODY,
      subject: EMAIL_SUBJECT,
      postage: null,
    });
    expect(res.data.html).toContain('Hello Foo');
  });

  it('previewTemplateById renders a text message without subject or HTML', async () => {
    const res = await liveClient.previewTemplateById(live.templates.sms, { name: 'Foo' });
    expectSchema('templatePreview', res.data);
    expect(res.data).toMatchObject({
      id: live.templates.sms,
      type: 'sms',
      version: 1,
      body: SMS_BODY,
      subject: null,
      html: null,
    });
  });

  it('previewTemplateById without the personalisation a template needs answers 400 Missing personalisation', async () => {
    const failure = await clientFailure(liveClient.previewTemplateById(live.templates.email));
    expect(failure).toEqual({
      status: 400,
      data: { status_code: 400, errors: [{ error: 'BadRequestError', message: 'Missing personalisation: name' }] },
    });
  });

  it('a template of a service with no team members still names its creator as a string', async () => {
    // Both clients' test schemas require `created_by` to be a string (reference §2.8).
    const otherClient = new NotifyClient(envoi.url, other.api_keys.other);
    const res = await otherClient.getTemplateById(other.templates['other-email']);
    expect(res.status).toBe(200);
    expectSchema('template', res.data);
  });
});

describe('getReceivedTexts', () => {
  it('lists the texts sent to the service, newest first, and pages with olderThan', async () => {
    const res = await liveClient.getReceivedTexts();
    expect(res.status).toBe(200);
    expectSchema('receivedTextList', res.data);
    const texts = res.data.received_text_messages;
    expect(texts.map((t) => [t.user_number, t.content]).sort()).toEqual([
      ['+16135550188', 'First reply'],
      ['+16135550189', 'Second reply'],
    ]);
    for (const t of texts) expect(t).toMatchObject({ service_id: LIVE_ID, notify_number: '+16135550100' });
    expect(res.data.links).toEqual({
      current: `${envoi.url}/v2/received-text-messages`,
      next: `${envoi.url}/v2/received-text-messages?older_than=${texts[1].id}`,
    });

    const older = await liveClient.getReceivedTexts(texts[0].id);
    expectSchema('receivedTextList', older.data);
    expect(older.data.received_text_messages).toEqual([texts[1]]);
    // links.current never carries the query string.
    expect(older.data.links.current).toBe(`${envoi.url}/v2/received-text-messages`);

    const none = await liveClient.getReceivedTexts(texts[1].id);
    expectSchema('receivedTextList', none.data);
    expect(none.data.received_text_messages).toEqual([]);
    expect(none.data.links).toEqual({ current: `${envoi.url}/v2/received-text-messages` });
  });

  it('answers an empty list for a service that has received nothing', async () => {
    const res = await new NotifyClient(envoi.url, other.api_keys.other).getReceivedTexts();
    expectSchema('receivedTextList', res.data);
    expect(res.data.received_text_messages).toEqual([]);
  });
});
