/**
 * Every error the v2 API gives for email and text message sends and for reads (reference §1 "Validation errors",
 * §2.1, §2.2, §2.5, §2.7-2.11 and §4), each with its status, error name and message word for word.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEnvoi, type RunningEnvoi } from '../support/envoi.ts';
import { fixture, GUEST_EMAIL, LIVE_ID, TEAM_EMAIL, TEAM_MOBILE } from './fixture.ts';
import { call, expectError, expectValidationErrors, type ApiResponse } from './helpers.ts';
import { expectSchema, STATUSES } from './response-schemas.ts';

const RATE_ID = '66666666-6666-4666-8666-666666666666';
const EDGE_ID = '77777777-7777-4777-8777-777777777777';
const TEXT_ONLY_ID = '88888888-8888-4888-8888-888888888888';
const ABROAD_ID = '99999999-9999-4999-8999-999999999999';

type Provisioned = RunningEnvoi['provisioned']['services'][number];

let envoi: RunningEnvoi;
let live: Provisioned;
let trial: Provisioned;
let rate: Provisioned;
let edge: Provisioned;
let textOnly: Provisioned;
let abroad: Provisioned;

beforeAll(async () => {
  envoi = await startEnvoi({ bootstrap: fixture() });
  [live, , trial] = envoi.provisioned.services;
  const extra = await envoi.bootstrap({
    services: [
      {
        name: 'Rate limited service',
        id: RATE_ID,
        restricted: false,
        permissions: ['email'],
        rate_limit: 3,
        templates: [{ key: 'email', type: 'email', versions: [{ name: 'Hi', subject: 'Hi', content: 'Hi ((name))' }] }],
        api_keys: [
          { name: 'live', type: 'normal' },
          { name: 'test', type: 'test' },
        ],
      },
      {
        name: 'Edge service',
        id: EDGE_ID,
        restricted: false,
        permissions: ['email', 'sms', 'international_sms'],
        templates: [
          {
            key: 'blank-email',
            type: 'email',
            versions: [{ name: 'Blank email', subject: 'Subject', content: '((body))' }],
          },
          { key: 'blank-sms', type: 'sms', versions: [{ name: 'Blank sms', content: '((body))' }] },
          // Personalisation is at most 51,200 characters (GC Notify): a long email repeats it.
          {
            key: 'repeating-email',
            type: 'email',
            versions: [{ name: 'Repeating email', subject: 'Subject', content: '((body))'.repeat(40) }],
          },
        ],
        api_keys: [{ name: 'live', type: 'normal' }],
      },
      {
        name: 'Text only service',
        id: TEXT_ONLY_ID,
        restricted: false,
        permissions: ['sms'],
        templates: [{ key: 'email', type: 'email', versions: [{ name: 'Hi', subject: 'Hi', content: 'Hi' }] }],
        api_keys: [{ name: 'live', type: 'normal' }],
      },
      {
        name: 'International limited service',
        id: ABROAD_ID,
        restricted: false,
        permissions: ['sms', 'international_sms'],
        message_limit: { sms: 100, international_sms: 1 },
        templates: [{ key: 'sms', type: 'sms', versions: [{ name: 'Hi', content: 'Hi' }] }],
        api_keys: [{ name: 'live', type: 'normal' }],
      },
    ],
  });
  [rate, edge, textOnly, abroad] = extra.services;
});

afterAll(async () => {
  await envoi?.stop();
});

const post = (path: string, key: string, json: unknown) => call(envoi.url, 'POST', path, { key, json });
const postEmail = (json: unknown, key = live.api_keys.live) => post('/v2/notifications/email', key, json);
const postSms = (json: unknown, key = live.api_keys.live) => post('/v2/notifications/sms', key, json);
const get = (path: string, key = live.api_keys.live) => call(envoi.url, 'GET', path, { key });

const goodEmail = () => ({
  email_address: 'someone@example.com',
  template_id: live.templates.email,
  personalisation: { name: 'Foo' },
});
const goodSms = () => ({
  phone_number: '+16135550199',
  template_id: live.templates.sms,
  personalisation: { name: 'Foo' },
});

const badRequest = (res: ApiResponse, message: string) => expectError(res, 400, 'BadRequestError', message);

describe('email request validation', () => {
  it('names each missing required property', async () => {
    expectValidationErrors(await postEmail({}), [
      'email_address is a required property',
      'template_id is a required property',
    ]);
  });

  it('refuses properties the schema does not have, all in one message', async () => {
    expectValidationErrors(await postEmail({ ...goodEmail(), template: 'x' }), [
      'Additional properties are not allowed (template was unexpected)',
    ]);
    expectValidationErrors(await postEmail({ ...goodEmail(), template: 'x', phone_number: '1' }), [
      'Additional properties are not allowed (template, phone_number were unexpected)',
    ]);
  });

  it('checks UUID fields', async () => {
    expectValidationErrors(await postEmail({ ...goodEmail(), template_id: 'not-a-uuid' }), [
      'template_id is not a valid UUID',
    ]);
    expectValidationErrors(await postEmail({ ...goodEmail(), email_reply_to_id: '1234' }), [
      'email_reply_to_id is not a valid UUID',
    ]);
  });

  it('reads UUIDs in the forms Python’s UUID() accepts', async () => {
    const id = live.templates.email;
    for (const form of [id.toUpperCase(), id.replaceAll('-', ''), `{${id}}`, `urn:uuid:${id}`]) {
      const res = await postEmail({ ...goodEmail(), template_id: form });
      expect({ form, status: res.status }).toEqual({ form, status: 201 });
    }
  });

  it('needs personalisation to be an object', async () => {
    expectValidationErrors(await postEmail({ ...goodEmail(), personalisation: 'not_a_dict' }), [
      'personalisation not_a_dict is not of type object',
    ]);
  });

  it('limits reference to 1000 characters', async () => {
    const long = 'r'.repeat(1001);
    expectValidationErrors(await postEmail({ ...goodEmail(), reference: long }), [`reference ${long} is too long`]);
    expect((await postEmail({ ...goodEmail(), reference: 'r'.repeat(1000) })).status).toBe(201);
  });

  it('checks the email address', async () => {
    for (const address of [
      'not-an-email',
      'someone@',
      'a@b',
      'two@@example.com',
      'a..b@example.com',
      'x@example.com;y@example.com',
    ]) {
      expectValidationErrors(await postEmail({ ...goodEmail(), email_address: address }), [
        'email_address Not a valid email address',
      ]);
    }
    expectValidationErrors(await postEmail({ ...goodEmail(), email_address: 5 }), [
      'email_address 5 is not of type string',
    ]);
  });

  it('needs one_click_unsubscribe_url to be an https URL, reported once', async () => {
    for (const url of ['http://example.com/unsubscribe', 'not a url', 'https']) {
      expectValidationErrors(await postEmail({ ...goodEmail(), one_click_unsubscribe_url: url }), [
        'one_click_unsubscribe_url is not a valid https url',
      ]);
    }
  });

  it('needs sanitise_content_for to be an array or null', async () => {
    expectValidationErrors(await postEmail({ ...goodEmail(), sanitise_content_for: 'name' }), [
      'sanitise_content_for name is not of type array, null',
    ]);
    expect((await postEmail({ ...goodEmail(), sanitise_content_for: null })).status).toBe(201);
  });

  it('checks scheduled_for: not in the past, at most 96 hours ahead, ISO 8601', async () => {
    const past = new Date(Date.now() - 3_600_000).toISOString();
    const tooFar = new Date(Date.now() + 97 * 3_600_000).toISOString();
    expectValidationErrors(await postEmail({ ...goodEmail(), scheduled_for: past }), [
      'scheduled_for datetime cannot be in the past',
    ]);
    expectValidationErrors(await postEmail({ ...goodEmail(), scheduled_for: tooFar }), [
      'scheduled_for datetime can only be up to 96 hours in the future',
    ]);
    for (const value of ['next tuesday', '2020-02-30T10:00:00', '2021-04-31', '12/05/2030']) {
      expectValidationErrors(await postEmail({ ...goodEmail(), scheduled_for: value }), [
        'scheduled_for datetime format is invalid. It must be a valid ISO8601 date time format, https://en.wikipedia.org/wiki/ISO_8601',
      ]);
    }
  });

  it('reports every error at once, each only once', async () => {
    const long = 'r'.repeat(1001);
    const res = await postEmail({
      email_address: 'nope',
      template_id: 'nope',
      personalisation: 'not_a_dict',
      reference: long,
      one_click_unsubscribe_url: 'http://example.com',
      extra: true,
    });
    expectValidationErrors(res, [
      'Additional properties are not allowed (extra was unexpected)',
      'email_address Not a valid email address',
      'template_id is not a valid UUID',
      'personalisation not_a_dict is not of type object',
      `reference ${long} is too long`,
      'one_click_unsubscribe_url is not a valid https url',
    ]);
  });
});

describe('text message request validation', () => {
  it('names each missing required property', async () => {
    expectValidationErrors(await postSms({}), [
      'phone_number is a required property',
      'template_id is a required property',
    ]);
  });

  it('refuses email-only properties', async () => {
    expectValidationErrors(await postSms({ ...goodSms(), email_reply_to_id: randomUUID() }), [
      'Additional properties are not allowed (email_reply_to_id was unexpected)',
    ]);
  });

  it('checks sms_sender_id is a UUID', async () => {
    expectValidationErrors(await postSms({ ...goodSms(), sms_sender_id: 'abc' }), [
      'sms_sender_id is not a valid UUID',
    ]);
  });

  it('gives each phone number message that can be reached, prefixed with the field', async () => {
    const cases: [string, string][] = [
      ['+1613555012345678', 'Too many digits'],
      ['12', 'Not enough digits'],
      ['613-555-abcd', 'Must not contain letters or symbols'],
      ['+999 123 456 789', 'Not a valid country prefix'],
      ['+1 555 555 5555', 'Number is not valid – double check the phone number you entered'],
      ['911', 'Phone number cannot be an emergency number'],
      ['999', 'Phone number cannot be an emergency number'],
    ];
    for (const [phone, message] of cases) {
      expectValidationErrors(await postSms({ ...goodSms(), phone_number: phone }), [`phone_number ${message}`]);
    }
    expectValidationErrors(await postSms({ ...goodSms(), phone_number: 6135550199 }), [
      'phone_number 6135550199 is not of type string',
    ]);
  });
});

describe('request bodies', () => {
  it('400 Invalid JSON supplied in POST data for a body that is not JSON', async () => {
    for (const raw of ['{"email_address": ', 'email_address=a@b.com', "{'a': 1}"]) {
      badRequest(
        await call(envoi.url, 'POST', '/v2/notifications/email', {
          key: live.api_keys.live,
          raw,
          contentType: 'application/json',
        }),
        'Invalid JSON supplied in POST data',
      );
    }
  });

  it('400 Invalid JSON supplied in POST data for an empty body', async () => {
    badRequest(
      await call(envoi.url, 'POST', '/v2/notifications/sms', { key: live.api_keys.live }),
      'Invalid JSON supplied in POST data',
    );
    badRequest(
      await call(envoi.url, 'POST', '/v2/notifications/sms', {
        key: live.api_keys.live,
        raw: '',
        contentType: 'application/json',
      }),
      'Invalid JSON supplied in POST data',
    );
  });

  it('a JSON body that is not an object fails validation', async () => {
    expectValidationErrors(await postEmail([]), ['[] is not of type object']);
  });

  it('reads the body as JSON whatever the Content-Type says', async () => {
    const raw = JSON.stringify(goodEmail());
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded']) {
      const res = await call(envoi.url, 'POST', '/v2/notifications/email', {
        key: live.api_keys.live,
        raw,
        contentType,
      });
      expect({ contentType, status: res.status }).toEqual({ contentType, status: 201 });
    }
  });

  it('a body over 10 MB gets a clear 4xx error, not a 500', async () => {
    const raw = JSON.stringify({ ...goodEmail(), personalisation: { name: 'x'.repeat(11 * 1024 * 1024) } });
    const res = await call(envoi.url, 'POST', '/v2/notifications/email', {
      key: live.api_keys.live,
      raw,
      contentType: 'application/json',
    });
    expectError(res, 413, 'RequestEntityTooLarge', 'Request body is too large');
  });
});

describe('templates and personalisation on send', () => {
  it('400 Template not found for an unknown template', async () => {
    badRequest(await postEmail({ ...goodEmail(), template_id: randomUUID() }), 'Template not found');
    badRequest(await postSms({ ...goodSms(), template_id: randomUUID() }), 'Template not found');
  });

  it('400 when the template is of the other type', async () => {
    badRequest(
      await postEmail({ ...goodEmail(), template_id: live.templates.sms }),
      'sms template is not suitable for email notification',
    );
    badRequest(
      await postSms({ ...goodSms(), template_id: live.templates.email }),
      'email template is not suitable for sms notification',
    );
  });

  it('400 Template has been deleted for an archived template', async () => {
    badRequest(await postEmail({ ...goodEmail(), template_id: live.templates.archived }), 'Template has been deleted');
  });

  it('400 Missing personalisation, a null value counting as missing', async () => {
    badRequest(await postEmail({ ...goodEmail(), personalisation: {} }), 'Missing personalisation: name');
    badRequest(await postEmail({ ...goodEmail(), personalisation: { name: null } }), 'Missing personalisation: name');
    badRequest(
      await postSms({ phone_number: '+16135550199', template_id: live.templates.sms }),
      'Missing personalisation: name',
    );
  });

  it('400, not a 500, for text that cannot be stored or sent: a null character or half of a surrogate pair', async () => {
    const refused = 'contains a character that cannot be sent: a null character or half of a surrogate pair';
    badRequest(
      await postEmail({ ...goodEmail(), personalisation: { name: 'Ana\u0000' } }),
      `personalisation name ${refused}`,
    );
    badRequest(
      await postEmail({ ...goodEmail(), personalisation: { name: 'Ana \ud83d' } }),
      `personalisation name ${refused}`,
    );
    badRequest(
      await postEmail({ ...goodEmail(), personalisation: { name: 'Ana', 'x\u0000y': 'z' } }),
      `personalisation x?y ${refused}`,
    );
    badRequest(
      await postEmail({ ...goodEmail(), personalisation: { name: ['a', 'b\udc00'] } }),
      `personalisation name ${refused}`,
    );
    badRequest(
      await postSms({ ...goodSms(), personalisation: { name: 'Ana\u0000' } }),
      `personalisation name ${refused}`,
    );
    badRequest(await postEmail({ ...goodEmail(), reference: 'ref\u0000' }), `reference ${refused}`);
    // A whole pair is an ordinary character (an emoji here), stored and sent as it is.
    const res = await postEmail({ ...goodEmail(), personalisation: { name: 'Ana \ud83d\ude00' } });
    expect(res.status).toBe(201);
    expect(res.body.content.body).toContain('Ana 😀');
  });

  it('400 Your message is empty.', async () => {
    const key = edge.api_keys.live;
    badRequest(
      await postEmail(
        {
          email_address: 'someone@example.com',
          template_id: edge.templates['blank-email'],
          personalisation: { body: '' },
        },
        key,
      ),
      'Your message is empty.',
    );
    badRequest(
      await postSms(
        { phone_number: '+16135550199', template_id: edge.templates['blank-sms'], personalisation: { body: '  ' } },
        key,
      ),
      'Your message is empty.',
    );
  });

  it('400 for an email body over 2,000,000 bytes', async () => {
    const res = await postEmail(
      {
        email_address: 'someone@example.com',
        template_id: edge.templates['repeating-email'],
        personalisation: { body: 'é'.repeat(25_001) },
      },
      edge.api_keys.live,
    );
    badRequest(
      res,
      'Your message is too long. Emails cannot be longer than 2000000 bytes. Your message is 2000080 bytes.',
    );
  });

  it('400 for a text message over 612 characters; 612 is accepted', async () => {
    // "Your code is " is 13 characters.
    const send = (code: string) =>
      postSms({ phone_number: '+16135550199', template_id: live.templates.urgent, personalisation: { code } });
    badRequest(
      await send('1'.repeat(600)),
      'Your message is too long. Text messages cannot be longer than 612 characters. Your message is 613 characters long.',
    );
    const ok = await send('1'.repeat(599));
    expect(ok.status).toBe(201);
    expectSchema('postSmsResponse', ok.body);
  });
});

describe('files by email (personalisation values with a "file")', () => {
  const file = {
    file: Buffer.from('hello').toString('base64'),
    filename: null,
    confirm_email_before_download: null,
    retention_period: null,
  };

  it('400 when the service has not set up sending files (no contact link), rather than mailing the base64', async () => {
    const res = await postEmail({ ...goodEmail(), personalisation: { name: file } });
    expectSchema('error', res.body);
    expect(res.status).toBe(400);
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors[0].error).toBe('BadRequestError');
    expect(res.body.errors[0].message).toMatch(
      new RegExp(
        `^Send files by email has not been set up - add contact details for your service at \\S+/services/${LIVE_ID}/service-settings/send-files-by-email$`,
      ),
    );
  });

  it('400 Can only send a file by email for a text message', async () => {
    badRequest(await postSms({ ...goodSms(), personalisation: { name: file } }), 'Can only send a file by email');
  });
});

describe('permissions and senders', () => {
  it('400 Service is not allowed to send text messages (the trial service only sends email)', async () => {
    badRequest(
      await postSms(
        { phone_number: '+16135550199', template_id: trial.templates['trial-email'] },
        trial.api_keys.trial,
      ),
      'Service is not allowed to send text messages',
    );
  });

  it('400 Service is not allowed to send emails', async () => {
    badRequest(
      await postEmail(
        { email_address: 'someone@example.com', template_id: textOnly.templates.email },
        textOnly.api_keys.live,
      ),
      'Service is not allowed to send emails',
    );
  });

  it('checks permission after the schema: an invalid request gets the validation errors', async () => {
    expectValidationErrors(await postSms({ template_id: trial.templates['trial-email'] }, trial.api_keys.trial), [
      'phone_number is a required property',
    ]);
  });

  it('400 when email_reply_to_id is not one of the service’s', async () => {
    const id = randomUUID();
    badRequest(
      await postEmail({ ...goodEmail(), email_reply_to_id: id }),
      `email_reply_to_id ${id} does not exist in database for service id ${LIVE_ID}`,
    );
  });

  it('400 when sms_sender_id is not one of the service’s', async () => {
    const id = randomUUID();
    badRequest(
      await postSms({ ...goodSms(), sms_sender_id: id }),
      `sms_sender_id ${id} does not exist in database for service id ${LIVE_ID}`,
    );
  });
});

describe('recipients', () => {
  const TEAM_ONLY = 'Can’t send to this recipient using a team-only API key';
  const TRIAL =
    'Can’t send to this recipient when service is in trial mode – see https://www.notifications.service.gov.uk/trial-mode';

  it('a team key may send only to team members and the guest list', async () => {
    const team = live.api_keys.team;
    badRequest(await postEmail({ ...goodEmail(), email_address: 'stranger@example.com' }, team), TEAM_ONLY);
    badRequest(await postSms({ ...goodSms(), phone_number: '+16135550111' }, team), TEAM_ONLY);
    expect((await postEmail({ ...goodEmail(), email_address: TEAM_EMAIL.toUpperCase() }, team)).status).toBe(201);
    expect((await postEmail({ ...goodEmail(), email_address: GUEST_EMAIL }, team)).status).toBe(201);
    expect((await postSms({ ...goodSms(), phone_number: TEAM_MOBILE }, team)).status).toBe(201);
  });

  it('a live key of a trial service may not send to strangers', async () => {
    const res = await postEmail(
      {
        email_address: 'stranger@example.com',
        template_id: trial.templates['trial-email'],
        personalisation: { name: 'Foo' },
      },
      trial.api_keys.trial,
    );
    badRequest(res, TRIAL);
  });

  it('400 Cannot send to international mobile numbers without the permission', async () => {
    badRequest(
      await postSms({ ...goodSms(), phone_number: '+447911123456' }),
      'Cannot send to international mobile numbers',
    );
    const allowed = await postSms(
      { phone_number: '+447911123456', template_id: edge.templates['blank-sms'], personalisation: { body: 'Hi' } },
      edge.api_keys.live,
    );
    expect(allowed.status).toBe(201);
  });
});

describe('letters', () => {
  it('400 Service is not allowed to send letters', async () => {
    const res = await post('/v2/notifications/letter', live.api_keys.live, {
      template_id: randomUUID(),
      personalisation: { address_line_1: 'A', address_line_2: 'B', postcode: 'SW1A 1AA' },
    });
    badRequest(res, 'Service is not allowed to send letters');
  });

  it('GET …/pdf of an email is 400 Notification is not a letter', async () => {
    const sent = await postEmail(goodEmail());
    badRequest(await get(`/v2/notifications/${sent.body.id}/pdf`), 'Notification is not a letter');
  });

  it('GET …/pdf checks the id like GET by id: 400 for a bad id, 404 for an unknown one', async () => {
    expectValidationErrors(await get('/v2/notifications/not-a-uuid/pdf'), ['notification_id is not a valid UUID']);
    expectError(await get(`/v2/notifications/${randomUUID()}/pdf`), 404, 'NoResultFound', 'No result found');
  });
});

describe('reads', () => {
  it('GET /v2/notifications/{id}: 400 for a bad id, 404 NoResultFound for an unknown one', async () => {
    expectValidationErrors(await get('/v2/notifications/not-a-uuid'), ['notification_id is not a valid UUID']);
    expectError(await get(`/v2/notifications/${randomUUID()}`), 404, 'NoResultFound', 'No result found');
  });

  it('GET /v2/notifications/{id} reads the id in any form Python’s UUID() accepts', async () => {
    const sent = await postEmail(goodEmail());
    const id: string = sent.body.id;
    for (const form of [id.toUpperCase(), id.replaceAll('-', '')]) {
      const res = await get(`/v2/notifications/${form}`);
      expect(res.status).toBe(200);
      expect(res.body.id).toBe(id);
    }
  });

  it('GET /v2/notifications checks its query', async () => {
    expectValidationErrors(await get('/v2/notifications?template_type=coconut'), [
      'template_type coconut is not one of [sms, email, letter]',
    ]);
    expectValidationErrors(await get('/v2/notifications?status=bogus'), [
      `status bogus is not one of [${[...STATUSES, 'accepted', 'received'].join(', ')}]`,
    ]);
    expectValidationErrors(await get('/v2/notifications?older_than=yesterday'), ['older_than is not a valid UUID']);
    expectValidationErrors(await get('/v2/notifications?include_jobs=yes'), [
      'include_jobs yes is not one of [true, True]',
    ]);
    expectValidationErrors(await get('/v2/notifications?foo=bar'), [
      'Additional properties are not allowed (foo was unexpected)',
    ]);
  });

  it('GET /v2/notifications takes repeated template_type and status as lists', async () => {
    const res = await get('/v2/notifications?template_type=sms&template_type=email&status=created&status=sending');
    expect(res.status).toBe(200);
    expectSchema('notificationList', res.body);
    expect(res.body.notifications.length).toBeGreaterThan(0);
    expect(new Set(res.body.notifications.map((n: { type: string }) => n.type))).toEqual(new Set(['email', 'sms']));
  });

  it('GET /v2/templates checks its query', async () => {
    expectValidationErrors(await get('/v2/templates?type=coconut'), [
      'type coconut is not one of [sms, email, letter]',
    ]);
    expectValidationErrors(await get('/v2/templates?foo=bar'), [
      'Additional properties are not allowed (foo was unexpected)',
    ]);
  });

  it('GET /v2/template/{id}: 400 for a bad id, 404 for an unknown template or version', async () => {
    expectValidationErrors(await get('/v2/template/not-a-uuid'), ['id is not a valid UUID']);
    expectError(await get(`/v2/template/${randomUUID()}`), 404, 'NoResultFound', 'No result found');
    expectError(await get(`/v2/template/${randomUUID()}/version/1`), 404, 'NoResultFound', 'No result found');
    expectError(await get(`/v2/template/${live.templates.sms}/version/2`), 404, 'NoResultFound', 'No result found');
  });

  it('POST /v2/template/{id}/preview errors', async () => {
    const key = live.api_keys.live;
    const preview = (id: string, opts: { json?: unknown; raw?: string }) =>
      call(envoi.url, 'POST', `/v2/template/${id}/preview`, { key, ...opts, contentType: 'application/json' });
    expectValidationErrors(await preview(live.templates.email, { json: { personalisation: null } }), [
      'personalisation None is not of type object',
    ]);
    badRequest(await preview(live.templates.email, {}), 'Missing personalisation: name');
    badRequest(
      await preview(live.templates.email, { json: { personalisation: { other: 1 } } }),
      'Missing personalisation: name',
    );
    badRequest(
      await preview(live.templates.email, { raw: '{"personalisation": ' }),
      'Invalid JSON supplied in POST data',
    );
    expectError(
      await preview(randomUUID(), { json: { personalisation: {} } }),
      404,
      'NoResultFound',
      'No result found',
    );
    expectValidationErrors(await preview('not-a-uuid', { json: {} }), ['id is not a valid UUID']);
  });

  it('GET /v2/received-text-messages checks its query', async () => {
    expectValidationErrors(await get('/v2/received-text-messages?older_than=bad'), ['older_than is not a valid UUID']);
    expectValidationErrors(await get('/v2/received-text-messages?user_number=1'), [
      'Additional properties are not allowed (user_number was unexpected)',
    ]);
  });
});

describe('rate limit', () => {
  const email = () => ({
    email_address: 'someone@example.com',
    template_id: rate.templates.email,
    personalisation: { name: 'A' },
  });

  /** Sends until the first 429, at most `max` times; returns the statuses seen and the 429 response. */
  async function sendUntilLimited(key: string, max = 20) {
    const statuses: number[] = [];
    for (let i = 0; i < max; i++) {
      const res = await postEmail(email(), key);
      statuses.push(res.status);
      if (res.status === 429) return { statuses, limited: res };
    }
    return { statuses, limited: null };
  }

  it('429 RateLimitError once a key type has used its requests, per key type, before the body is read', async () => {
    const liveRun = await sendUntilLimited(rate.api_keys.live);
    expect(liveRun.statuses[0]).toBe(201);
    // A rate limit of 3 per 60 s allows a burst of ceil(3/3)+1 = 2 (reference §4): the third quick send is refused.
    expect(liveRun.statuses.filter((s) => s === 201).length).toBeLessThanOrEqual(3);
    expect(liveRun.limited).not.toBeNull();
    expectError(
      liveRun.limited!,
      429,
      'RateLimitError',
      'Exceeded rate limit for key type LIVE of 3 requests per 60 seconds',
    );

    // Checked before the JSON is parsed (reference §2 step 2).
    const unparsed = await call(envoi.url, 'POST', '/v2/notifications/email', {
      key: rate.api_keys.live,
      raw: '{not json',
      contentType: 'application/json',
    });
    expectError(unparsed, 429, 'RateLimitError', 'Exceeded rate limit for key type LIVE of 3 requests per 60 seconds');

    // Reads are not rate limited.
    expect((await get('/v2/templates', rate.api_keys.live)).status).toBe(200);

    // The test key has its own bucket.
    const testRun = await sendUntilLimited(rate.api_keys.test);
    expect(testRun.statuses[0]).toBe(201);
    expectError(
      testRun.limited!,
      429,
      'RateLimitError',
      'Exceeded rate limit for key type TEST of 3 requests per 60 seconds',
    );
  });
});

// Last in the file: once the trial service has reached its daily email limit, every later live-key email send
// from it gets 429 first.
describe('daily limit', () => {
  const LIMIT = 'Exceeded send limits (email: 3) for today';
  const trialEmail = (to: string) => ({
    email_address: to,
    template_id: trial.templates['trial-email'],
    personalisation: { name: 'Foo' },
  });

  it('429 TooManyRequestsError after the trial service’s 3 emails of the day; test-key sends do not count', async () => {
    const liveKey = trial.api_keys.trial;
    const testKey = trial.api_keys['trial-test'];

    for (let i = 0; i < 4; i++)
      expect((await postEmail(trialEmail(`tester${i}@example.com`), testKey)).status).toBe(201);

    for (const to of ['trial.member@example.gc.ca', GUEST_EMAIL, 'Trial.Member@example.gc.ca']) {
      const res = await postEmail(trialEmail(to), liveKey);
      expect({ to, status: res.status }).toEqual({ to, status: 201 });
    }
    expectError(await postEmail(trialEmail('trial.member@example.gc.ca'), liveKey), 429, 'TooManyRequestsError', LIMIT);

    // The daily limit is checked before the JSON is read.
    const unparsed = await call(envoi.url, 'POST', '/v2/notifications/email', {
      key: liveKey,
      raw: '{not json',
      contentType: 'application/json',
    });
    expectError(unparsed, 429, 'TooManyRequestsError', LIMIT);

    // Test keys are not limited.
    expect((await postEmail(trialEmail('tester9@example.com'), testKey)).status).toBe(201);
  });

  it('429 Exceeded send limits (international_sms: N) once the international limit is used; domestic texts go on', async () => {
    const send = (phone: string) =>
      postSms({ phone_number: phone, template_id: abroad.templates.sms }, abroad.api_keys.live);
    expect((await send('+447911123456')).status).toBe(201);
    expectError(
      await send('+33612345678'),
      429,
      'TooManyRequestsError',
      'Exceeded send limits (international_sms: 1) for today',
    );
    expect((await send('+16135550199')).status).toBe(201);
  });
});
