/**
 * Bounces for email sent through an SMTP relay. Each message leaves with its own envelope sender (VERP),
 * `bounce+<notification id>@<email domain>`, so a delivery status notification (RFC 3464) that a mail server sends
 * back names its notification in the address it is sent to. This is the small SMTP server receiving them:
 *
 * - it accepts mail only for such addresses (550 for anything else: it relays nothing and has no mailboxes);
 * - a report that a recipient `failed` with a 5.x.x status is a hard bounce (`permanent-failure`; the address goes
 *   on the service's suppression list unless the refusal was about the message rather than the address), with a
 *   4.x.x status a soft one (`temporary-failure`); `delayed`, `delivered`, `relayed` and `expanded` change nothing;
 * - an abuse report in the Abuse Reporting Format (RFC 5965) is a complaint;
 * - anything else (an out-of-office reply, a human answering the return path) is accepted and dropped.
 *
 * The SMTP transaction is answered only once the receipts are committed: when the database is unreachable the
 * sending server hears 451 and tries again later, so no bounce is lost.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerDataStream } from 'smtp-server';
import { simpleParser, type Attachment } from 'mailparser';
import type { Logger } from '../../../platform/queue/background.ts';
import type { ComplaintReceipt, Receipt, ReceiptSink, StatusReceipt } from './types.ts';

export interface BounceListenerOptions {
  port: number;
  /** Address to listen on; all interfaces when absent (mail servers on the internet must reach it). */
  host?: string;
  /** The domain of the VERP addresses: config.emailDomain, the domain whose MX points here. */
  emailDomain: string;
  sink: ReceiptSink;
  logger: Logger;
  /** Reports carry a copy (or the headers) of the original message; larger ones are refused with 552. */
  maxMessageBytes?: number;
}

export interface BounceListener {
  port: number;
  close(): Promise<void>;
}

const DEFAULT_MAX_MESSAGE_BYTES = 10 * 1024 * 1024;
const VERP = /^bounce\+([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})@([^@]+)$/i;

export async function startBounceListener(opts: BounceListenerOptions): Promise<BounceListener> {
  const { sink, logger } = opts;
  const domain = opts.emailDomain.toLowerCase();
  const maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;

  const server = new SMTPServer({
    logger: false,
    // Bounces come from mail servers, which never log in; no TLS certificate is configured for this port.
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    size: maxMessageBytes,
    disableReverseLookup: true,
    maxClients: 200,
    closeTimeout: 5_000,
    onRcptTo(address, _session, callback) {
      if (notificationIdOf(address.address, domain) === null) {
        return callback(smtpError(550, `5.1.1 <${address.address}>: no such mailbox here`));
      }
      callback();
    },
    onData(stream, session, callback) {
      readMessage(stream, maxMessageBytes)
        .then(async (raw) => {
          if (raw === null) return callback(smtpError(552, `5.3.4 Message larger than ${maxMessageBytes} bytes`));
          const ids = session.envelope.rcptTo
            .map((r) => notificationIdOf(r.address, domain))
            .filter((id): id is string => id !== null);
          // A message mailparser cannot read will not read better next time: take it (250) rather than have the
          // sender retry it for days.
          const receipts = await receiptsFromMessage(raw, ids, logger).catch((err: Error) => {
            logger.warn(
              { err: err.message, notificationIds: ids },
              'an unreadable message to a bounce address was dropped',
            );
            return [];
          });
          if (receipts.length > 0) await sink.submit(receipts);
          callback();
        })
        .catch((err: Error) => {
          logger.error({ err: err.message }, 'a bounce report could not be recorded; the sending server will retry');
          callback(smtpError(451, '4.3.0 Could not record the report now, try again later'));
        });
    },
  });
  server.on('error', (err) => logger.warn({ err: err.message }, 'bounce SMTP server error'));

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const port = (server.server.address() as AddressInfo).port;
  logger.info({ port, domain }, 'listening for bounce reports');
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The notification id in `bounce+<id>@<domain>`, or null for any other address. */
export function notificationIdOf(address: string, domain: string): string | null {
  const m = VERP.exec(address.trim());
  if (!m || m[2]!.toLowerCase() !== domain) return null;
  return m[1]!.toLowerCase();
}

/** The whole message, or null when it is larger than the limit (the rest is read and thrown away). */
function readMessage(stream: SMTPServerDataStream, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    stream.on('error', reject);
    stream.on('end', () => resolve(stream.sizeExceeded || size > limit ? null : Buffer.concat(chunks)));
  });
}

/** What one received message means for the notifications it was addressed to (none for an auto-reply). */
export async function receiptsFromMessage(raw: Buffer, notificationIds: string[], logger?: Logger): Promise<Receipt[]> {
  if (notificationIds.length === 0) return [];
  const parsed = await simpleParser(raw, {
    keepDeliveryStatus: true,
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipTextLinks: true,
  });
  const part = (type: string) => parsed.attachments.find((a: Attachment) => a.contentType.toLowerCase() === type);

  const dsn = part('message/delivery-status') ?? part('message/global-delivery-status');
  if (dsn) {
    const outcome = bounceOutcome(dsn.content.toString('utf8'));
    if (!outcome) return [];
    return notificationIds.map(
      (notificationId): StatusReceipt => ({ kind: 'status', target: { notificationId }, bounce: true, ...outcome }),
    );
  }

  const feedback = part('message/feedback-report');
  if (feedback) {
    const fields = fieldBlocks(feedback.content.toString('utf8'))[0] ?? new Map<string, string>();
    const type = (fields.get('feedback-type') ?? '').toLowerCase() || null;
    // auth-failure reports are about SPF/DKIM/DMARC, not a person objecting to the mail.
    if (type === 'auth-failure' || type === 'not-spam') return [];
    // When the report was written: the same on a retransmission, so the applier counts the complaint once.
    const at = pastDate(parsed.date) ?? new Date();
    return notificationIds.map(
      (notificationId): ComplaintReceipt => ({
        kind: 'complaint',
        target: { notificationId },
        complaintType: type,
        at,
      }),
    );
  }

  logger?.info(
    { notificationIds, subject: parsed.subject?.slice(0, 200) },
    'mail to a bounce address that is not a delivery report was dropped',
  );
  return [];
}

const ENHANCED_STATUS = /^[245]\.\d{1,3}\.\d{1,3}/;

type BounceOutcome = Pick<StatusReceipt, 'status' | 'response' | 'at' | 'suppress'>;

/**
 * The outcome of a message/delivery-status body: the most serious of its per-recipient reports (a hard bounce
 * over a soft one), or null when none of them is a failure.
 */
export function bounceOutcome(deliveryStatus: string): BounceOutcome | null {
  const blocks = fieldBlocks(deliveryStatus);
  let soft: BounceOutcome | null = null;
  for (const fields of blocks) {
    if ((fields.get('action') ?? '').toLowerCase().split(/[\s(]/, 1)[0] !== 'failed') continue;
    const diagnostic = (fields.get('diagnostic-code') ?? '').replace(/^[^;]*;\s*/, '').trim();
    // Status is required, but some servers leave it out and give only `smtp; 550 5.1.1 …`.
    const status =
      ENHANCED_STATUS.exec(fields.get('status') ?? '')?.[0] ??
      ENHANCED_STATUS.exec(diagnostic.replace(/^\d{3}[ -]/, ''))?.[0] ??
      null;
    const replyCode = /^[245]\d\d\b/.exec(diagnostic)?.[0] ?? null;
    const statusClass = status?.[0] ?? replyCode?.[0] ?? '5';
    const at = pastDate(dateOf(fields.get('last-attempt-date'))) ?? new Date();
    const response = (diagnostic || `${status ?? 'failed'} (no diagnostic given)`).slice(0, 1000);
    if (statusClass === '4') {
      soft ??= { status: 'temporary-failure', response, at };
      continue;
    }
    return {
      status: 'permanent-failure',
      response,
      at,
      ...(status !== null && aboutTheAddress(status) ? { suppress: 'hard-bounce' } : {}),
    };
  }
  return soft;
}

/**
 * A permanent failure that says the address cannot receive mail, rather than that this message was refused (too
 * big, its content or the sender's reputation: 5.3.4, 5.6.x, 5.7.x) or the mailbox is full for now (5.2.2).
 * Only those bar the address for the service's later messages.
 */
function aboutTheAddress(status: string): boolean {
  const [, subject, detail] = status.split('.');
  if (subject === '1' || subject === '4') return true;
  if (subject === '2') return detail === '0' || detail === '1';
  return false;
}

/** Blocks of `Name: value` fields separated by blank lines (RFC 3464 §2.1), names lower-cased, folded lines joined. */
function fieldBlocks(text: string): Map<string, string>[] {
  return text
    .replace(/\r\n/g, '\n')
    .replace(/\n[ \t]+/g, ' ')
    .split(/\n\s*\n/)
    .map((block) => {
      const fields = new Map<string, string>();
      for (const line of block.split('\n')) {
        const colon = line.indexOf(':');
        if (colon > 0) fields.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      return fields;
    })
    .filter((fields) => fields.size > 0);
}

function dateOf(value: string | undefined): Date | null {
  if (!value) return null;
  const date = new Date(value.replace(/\s*\([^)]*\)\s*$/, ''));
  return Number.isNaN(date.getTime()) ? null : date;
}

/** A date the report gives, unless it lies in the future (a sender's clock): then the time it arrived is used. */
function pastDate(date: Date | null | undefined): Date | null {
  return date && !Number.isNaN(date.getTime()) && date.getTime() <= Date.now() ? date : null;
}

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}
