/**
 * SMTP bounces: email leaves with a VERP envelope sender, and delivery status notifications (RFC 3464) sent to it
 * by a real SMTP client reach the bounce listener, which marks hard and soft bounces, suppresses hard-bounced
 * addresses and records complaints, through the real receipt applier and database.
 */
import { randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';
import {
  createService,
  createTemplate,
  insertNotification,
  notification,
  startSmtpPeer,
  waitFor,
  type TemplateRef,
} from './fixtures.ts';
import { createSmtpEmailProvider } from '../../src/notify/delivery/providers/smtp.ts';
import type { EmailMessage } from '../../src/notify/delivery/providers/types.ts';
import { startBounceListener, type BounceListener } from '../../src/notify/delivery/receipts/bounces.ts';
import { createReceiptApplier } from '../../src/notify/delivery/receipts/applier.ts';
import type { Logger } from '../../src/platform/queue/background.ts';

const DOMAIN = 'notify.test.example';
const quiet: Logger = { info() {}, warn() {}, error() {} };

describe('VERP envelope sender', () => {
  it('sends MAIL FROM the bounce address when there is one, and the From address otherwise', async () => {
    const relay = await startSmtpPeer();
    const provider = createSmtpEmailProvider({ url: relay.url, poolSize: 1 });
    try {
      const id = randomUUID();
      const message: EmailMessage = {
        notificationId: id,
        serviceId: randomUUID(),
        from: { name: 'A service', address: `service@${DOMAIN}` },
        to: 'person@example.com',
        replyTo: null,
        subject: 'Hello',
        text: 'Hello',
        html: '<p>Hello</p>',
        messageId: `<${id}@${DOMAIN}>`,
        bounceAddress: `bounce+${id}@${DOMAIN}`,
        unsubscribeUrl: null,
      };
      expect((await provider.send(message)).outcome).toBe('delivered');
      expect((await provider.send({ ...message, bounceAddress: null })).outcome).toBe('delivered');

      expect(relay.received.map((m) => ({ from: m.from, to: m.to }))).toEqual([
        { from: `bounce+${id}@${DOMAIN}`, to: ['person@example.com'] },
        { from: `service@${DOMAIN}`, to: ['person@example.com'] },
      ]);
      // The header From stays the service's address: only the envelope changes.
      expect(relay.received[0]!.headers.get('from')).toContain(`service@${DOMAIN}`);
    } finally {
      await provider.close();
      await relay.close();
    }
  });
});

describe('bounce listener', () => {
  let database: TestDatabase;
  let applier: ReturnType<typeof createReceiptApplier>;
  let listener: BounceListener;
  let serviceId: string;
  let template: TemplateRef;
  const client = () =>
    nodemailer.createTransport({ host: '127.0.0.1', port: listener.port, secure: false, ignoreTLS: true, pool: false });

  beforeAll(async () => {
    database = await openTestDatabase();
    applier = createReceiptApplier(database.db, { logger: quiet });
    listener = await startBounceListener({
      port: 0,
      host: '127.0.0.1',
      emailDomain: DOMAIN,
      sink: applier,
      logger: quiet,
      maxMessageBytes: 200_000,
    });
    serviceId = await createService(database.db);
    template = await createTemplate(database.db, serviceId, { type: 'email', subject: 'Hi', content: 'Hello' });
  });

  afterAll(async () => {
    await listener?.close();
    await applier?.close();
    await database?.close();
  });

  /** An email the relay took (status delivered, as SMTP sends are), to `to`. */
  async function deliveredEmail(to: string, status = 'delivered'): Promise<string> {
    const id = await insertNotification(database.db, {
      serviceId,
      template,
      type: 'email',
      to,
      body: 'Hello',
      subject: 'Hi',
    });
    await database.db
      .updateTable('notifications')
      .set({
        status,
        provider: 'smtp',
        provider_reference: `<${id}@${DOMAIN}>`,
        sent_at: new Date(),
        updated_at: new Date(),
      })
      .where('id', '=', id)
      .execute();
    return id;
  }

  /** Sends `raw` from the null sender, as mail servers send reports, to the given envelope recipients. */
  async function sendReport(to: string | string[], raw: string) {
    const transport = client();
    try {
      return await transport.sendMail({ envelope: { from: '', to }, raw });
    } finally {
      transport.close();
    }
  }

  async function suppression(recipient: string) {
    return database.db
      .selectFrom('suppressions')
      .selectAll()
      .where('service_id', '=', serviceId)
      .where('recipient', '=', recipient)
      .executeTakeFirst();
  }

  it('marks a delivered email permanent-failure on a hard bounce and suppresses the address', async () => {
    const id = await deliveredEmail('gone@example.com');
    const info = await sendReport(
      `bounce+${id}@${DOMAIN}`,
      report(id, {
        recipient: 'gone@example.com',
        action: 'failed',
        status: '5.1.1',
        diagnostic: 'smtp; 550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown',
      }),
    );
    expect(info.response).toMatch(/^250/);

    const row = await waitFor(async () => {
      const n = await notification(database.db, id);
      return n.status === 'permanent-failure' ? n : undefined;
    }, 'the hard bounce to be applied');
    expect(row.provider_response).toBe('550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown');
    expect(await suppression('gone@example.com')).toMatchObject({
      channel: 'email',
      reason: 'hard-bounce',
      notification_id: id,
    });
  });

  it('marks a soft bounce temporary-failure without suppressing the address', async () => {
    const id = await deliveredEmail('full@example.com');
    await sendReport(
      `bounce+${id}@${DOMAIN}`,
      report(id, {
        recipient: 'full@example.com',
        action: 'failed',
        status: '4.4.7',
        diagnostic:
          'X-Postfix; delivery temporarily suspended: connect to mx.example.com[192.0.2.1]:25: Connection timed out',
      }),
    );
    const row = await waitFor(async () => {
      const n = await notification(database.db, id);
      return n.status === 'temporary-failure' ? n : undefined;
    }, 'the soft bounce to be applied');
    expect(row.provider_response).toContain('Connection timed out');
    expect(await suppression('full@example.com')).toBeUndefined();
  });

  it('fails but does not suppress when the refusal is about the message, not the address', async () => {
    const id = await deliveredEmail('strict@example.com');
    await sendReport(
      `bounce+${id}@${DOMAIN}`,
      report(id, {
        recipient: 'strict@example.com',
        action: 'failed',
        status: '5.7.1',
        diagnostic: 'smtp; 550 5.7.1 Message rejected as spam by content filtering',
      }),
    );
    await waitFor(
      async () => (await notification(database.db, id)).status === 'permanent-failure',
      'the policy bounce',
    );
    expect(await suppression('strict@example.com')).toBeUndefined();
  });

  it('leaves the status alone for delay warnings, successful delivery reports and auto-replies', async () => {
    const delayed = await deliveredEmail('slow@example.com');
    const relayed = await deliveredEmail('relayed@example.com');
    const replied = await deliveredEmail('away@example.com');
    await sendReport(
      `bounce+${delayed}@${DOMAIN}`,
      report(delayed, { recipient: 'slow@example.com', action: 'delayed', status: '4.4.1' }),
    );
    await sendReport(
      `bounce+${relayed}@${DOMAIN}`,
      report(relayed, { recipient: 'relayed@example.com', action: 'relayed', status: '2.0.0' }),
    );
    const info = await sendReport(
      `bounce+${replied}@${DOMAIN}`,
      [
        'From: Away <away@example.com>',
        `To: bounce+${replied}@${DOMAIN}`,
        'Subject: Out of office',
        'Auto-Submitted: auto-replied',
        '',
        'I am away until Monday.',
        '',
      ].join('\r\n'),
    );
    expect(info.response).toMatch(/^250/);
    // A hard bounce sent after them is applied, so the three before it have been handled too.
    const marker = await deliveredEmail('marker@example.com');
    await sendReport(
      `bounce+${marker}@${DOMAIN}`,
      report(marker, { recipient: 'marker@example.com', action: 'failed', status: '5.1.1' }),
    );
    await waitFor(
      async () => (await notification(database.db, marker)).status === 'permanent-failure',
      'the marker bounce',
    );

    for (const id of [delayed, relayed, replied])
      expect((await notification(database.db, id)).status).toBe('delivered');
  });

  it('moves a sending email to a failure too', async () => {
    const id = await deliveredEmail('pending@example.com', 'sending');
    await sendReport(
      `bounce+${id}@${DOMAIN}`,
      report(id, {
        recipient: 'pending@example.com',
        action: 'failed',
        status: '5.1.2',
        diagnostic: 'smtp; 550 5.1.2 Host unknown',
      }),
    );
    await waitFor(
      async () => (await notification(database.db, id)).status === 'permanent-failure',
      'the bounce of a sending email',
    );
  });

  it('records an abuse report as a complaint', async () => {
    const id = await deliveredEmail('annoyed@example.com');
    await sendReport(`bounce+${id}@${DOMAIN}`, abuseReport(id, 'annoyed@example.com'));
    const complaint = await waitFor(
      () => database.db.selectFrom('complaints').selectAll().where('notification_id', '=', id).executeTakeFirst(),
      'the complaint to be recorded',
    );
    expect(complaint).toMatchObject({ service_id: serviceId, complaint_type: 'abuse' });
  });

  it('refuses recipients other than bounce addresses of its domain with 550, so it relays nothing', async () => {
    const id = randomUUID();
    for (const to of [
      'someone@example.com',
      `service@${DOMAIN}`,
      `bounce+not-an-id@${DOMAIN}`,
      `bounce+${id}@other.example`,
    ]) {
      await expect(sendReport(to, 'Subject: hi\r\n\r\nhi\r\n')).rejects.toMatchObject({ responseCode: 550 });
    }
  });

  it('answers 451 while the database cannot take the report, so the sending server tries again', async () => {
    const id = await deliveredEmail('later@example.com');
    const raw = report(id, { recipient: 'later@example.com', action: 'failed', status: '5.1.1' });
    await sql`ALTER TABLE notifications RENAME TO notifications_away`.execute(database.db);
    try {
      await expect(sendReport(`bounce+${id}@${DOMAIN}`, raw)).rejects.toMatchObject({ responseCode: 451 });
    } finally {
      await sql`ALTER TABLE notifications_away RENAME TO notifications`.execute(database.db);
    }
    await sendReport(`bounce+${id}@${DOMAIN}`, raw);
    await waitFor(
      async () => (await notification(database.db, id)).status === 'permanent-failure',
      'the retried report',
    );
  });

  it('refuses a report larger than the size limit with 552', async () => {
    const id = await deliveredEmail('big@example.com');
    const big = `${report(id, { recipient: 'big@example.com', action: 'failed', status: '5.1.1' }) + 'x'.repeat(300_000)}\r\n`;
    await expect(sendReport(`bounce+${id}@${DOMAIN}`, big)).rejects.toMatchObject({ responseCode: 552 });
    expect((await notification(database.db, id)).status).toBe('delivered');
  });
});

/** A delivery status notification as Postfix writes one, for the message `<id@DOMAIN>`. */
function report(id: string, r: { recipient: string; action: string; status: string; diagnostic?: string }): string {
  const boundary = `report-${id}`;
  return [
    'From: Mail Delivery System <MAILER-DAEMON@mx.example.com>',
    `To: bounce+${id}@${DOMAIN}`,
    'Subject: Undelivered Mail Returned to Sender',
    'Date: Tue, 3 Mar 2026 10:00:00 -0500',
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'This is the mail system at host mx.example.com. Your message could not be delivered.',
    '',
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.example.com',
    'X-Postfix-Queue-ID: 4Q1xyz',
    'Arrival-Date: Tue, 3 Mar 2026 09:59:58 -0500 (EST)',
    '',
    `Final-Recipient: rfc822; ${r.recipient}`,
    `Original-Recipient: rfc822;${r.recipient}`,
    `Action: ${r.action}`,
    `Status: ${r.status}`,
    'Remote-MTA: dns; mx.example.com',
    ...(r.diagnostic ? [fold(`Diagnostic-Code: ${r.diagnostic}`)] : []),
    '',
    `--${boundary}`,
    'Content-Type: text/rfc822-headers',
    '',
    `From: A service <service@${DOMAIN}>`,
    `To: ${r.recipient}`,
    `Message-ID: <${id}@${DOMAIN}>`,
    'Subject: Hi',
    '',
    `--${boundary}--`,
    '',
  ].join('\r\n');
}

/** Folds a long field at its last space before column 60, as mail servers do. */
function fold(line: string): string {
  const at = line.lastIndexOf(' ', 60);
  return line.length <= 60 || at <= 0 ? line : `${line.slice(0, at)}\r\n   ${line.slice(at)}`;
}

/** An Abuse Reporting Format (RFC 5965) report about the message `<id@DOMAIN>`. */
function abuseReport(id: string, recipient: string): string {
  const boundary = `arf-${id}`;
  return [
    'From: <abuse@mailbox.example>',
    `To: bounce+${id}@${DOMAIN}`,
    'Subject: FW: Hi',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=feedback-report; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain',
    '',
    'This is an email abuse report for an email message received from IP 192.0.2.2.',
    '',
    `--${boundary}`,
    'Content-Type: message/feedback-report',
    '',
    'Feedback-Type: abuse',
    'User-Agent: SomeGenerator/1.0',
    'Version: 1',
    `Original-Mail-From: <bounce+${id}@${DOMAIN}>`,
    `Original-Rcpt-To: <${recipient}>`,
    'Arrival-Date: Tue, 3 Mar 2026 10:05:00 -0500',
    '',
    `--${boundary}`,
    'Content-Type: message/rfc822',
    'Content-Disposition: inline',
    '',
    `From: A service <service@${DOMAIN}>`,
    `To: ${recipient}`,
    `Message-ID: <${id}@${DOMAIN}>`,
    'Subject: Hi',
    '',
    'Hello',
    '',
    `--${boundary}--`,
    '',
  ].join('\r\n');
}
