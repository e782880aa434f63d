/**
 * Email through an SMTP relay with nodemailer's pooled transport.
 *
 * Nagle's algorithm: SMTP is a conversation of small writes each waiting on a reply, and with Nagle on every
 * message waits out the relay's delayed ACK (about 22 messages/s per connection instead of about 690, DESIGN §2).
 * nodemailer turns it off itself since 10.1.0 (SMTPConnection._onConnect calls socket.setNoDelay(true) on every
 * socket, proxied or upgraded ones included), and package.json requires ^10.6.1. Doing it again through
 * `getSocket` would mean opening the sockets ourselves and losing nodemailer's address selection and TLS set-up,
 * so we rely on it; test/delivery/smtp.test.ts checks that it still happens.
 */
import nodemailer, { type SendMailOptions } from 'nodemailer';
import type { EmailMessage, EmailProvider, ProviderResult } from './types.ts';

export interface SmtpProviderOptions {
  /** smtp://user:pass@host:port or smtps://…; nodemailer's URL query options (e.g. tls.rejectUnauthorized) apply. */
  url: string;
  poolSize: number;
}

interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
}

export function createSmtpEmailProvider(opts: SmtpProviderOptions): EmailProvider {
  const transport = nodemailer.createTransport({
    pool: true,
    url: opts.url,
    maxConnections: opts.poolSize,
    // nodemailer's default closes a pooled connection after 100 messages; a relay that wants fewer says so by
    // closing it, and reconnecting every 100 messages costs a TCP and SMTP handshake each time.
    maxMessages: Infinity,
    // Well inside the worker's lease (60 s by default), so that a hung relay turns into a retry rather than
    // into a second worker sending the same message after the lease has run out.
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 30_000,
  });

  // nodemailer composes a message as soon as sendMail is called, and its pool slows down as its queue grows
  // (measured: 20 in flight on 20 connections ≈ 920/s, 200 ≈ 620/s, 1,000 ≈ 480/s): the worker's other sends wait
  // here, uncomposed, for a free connection.
  const slots = createSlots(opts.poolSize);

  return {
    name: 'smtp',
    async send(msg: EmailMessage): Promise<ProviderResult> {
      await slots.take();
      try {
        const info = await transport.sendMail({
          ...mailOptions(msg),
          // VERP: the envelope sender (Return-Path) names the notification, so its bounce report finds it.
          envelope: msg.bounceAddress ? { from: msg.bounceAddress, to: msg.to } : undefined,
        });
        return { outcome: 'delivered', reference: info.messageId ?? msg.messageId, response: info.response ?? '' };
      } catch (err) {
        return classify(err as SmtpError);
      } finally {
        slots.give();
      }
    },
    async close() {
      transport.close();
    },
  };
}

/** At most `size` holders at once; the others wait in order. */
function createSlots(size: number): { take(): Promise<void>; give(): void } {
  let free = size;
  const waiting: Array<() => void> = [];
  return {
    take() {
      if (free > 0) {
        free -= 1;
        return Promise.resolve();
      }
      return new Promise((resolve) => waiting.push(resolve));
    },
    give() {
      const next = waiting.shift();
      if (next) next();
      else free += 1;
    },
  };
}

/** The message as nodemailer composes it: the same MIME whether it goes to a relay or to SES as raw content. */
export function mailOptions(msg: EmailMessage): SendMailOptions {
  return {
    from: msg.from,
    to: msg.to,
    replyTo: msg.replyTo ?? undefined,
    subject: msg.subject,
    text: msg.text,
    html: msg.html,
    messageId: msg.messageId,
    // nodemailer writes List-Unsubscribe as <url> and strips anything that could break the header.
    list: msg.unsubscribeUrl ? { unsubscribe: msg.unsubscribeUrl } : undefined,
    headers: msg.unsubscribeUrl ? { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } : undefined,
    // With inline parts nodemailer wraps the HTML in multipart/related, as mail clients expect for cid: images.
    attachments: msg.inlineImages?.map((image) => ({
      cid: image.contentId,
      filename: image.filename,
      contentType: image.contentType,
      contentDisposition: 'inline' as const,
      // A view, not a copy: the worker shares one logo's bytes among all of a service's messages.
      content: Buffer.from(image.content.buffer, image.content.byteOffset, image.content.byteLength),
    })),
  };
}

/**
 * A 5xx reply refuses this message for good (RFC 5321), except 503 (bad command sequence: a session problem)
 * and a refused login (our configuration, not the recipient). Everything else, 4xx replies and connection,
 * TLS or timeout errors, may go through later.
 */
export function classify(err: SmtpError): ProviderResult {
  const response = err.response?.trim() || [err.code, err.message].filter(Boolean).join(': ');
  const code = err.responseCode;
  const loginProblem = err.code === 'EAUTH' || err.code === 'ENOAUTH';
  if (code !== undefined && code >= 500 && code < 600 && code !== 503 && !loginProblem) {
    return { outcome: 'permanent-failure', response };
  }
  return { outcome: 'retry', response };
}
