/**
 * Email through Amazon SES v2 (SendEmail with a raw MIME message).
 *
 * The message is composed by nodemailer exactly as the SMTP path composes it (the same mail options through the
 * same Mailer, only written to a buffer instead of a socket), so Message-ID, List-Unsubscribe and the MIME
 * structure do not depend on the provider. SES answers with its own MessageId; delivery, bounce and complaint
 * events for it arrive later through the configuration set, so a successful call is `accepted`, not `delivered`.
 *
 * Idempotency: SendEmail takes no client token. A resend after a crash carries the same Message-ID (the
 * notification id), which is how it stays recognisable. The VERP bounce address is not used: SES sets its own
 * Return-Path and reports bounces as events.
 */
import nodemailer from 'nodemailer';
import type { Config } from '../../../platform/config.ts';
import { awsClientOptions, awsErrorStatus, describeAwsError, type AwsError } from './aws-client.ts';
import { mailOptions } from './smtp.ts';
import type { EmailMessage, EmailProvider, ProviderResult } from './types.ts';

export interface SesProviderOptions {
  aws: Config['aws'];
  /** Configuration set whose event destination publishes delivery, bounce and complaint events. */
  configurationSet: string | null;
}

export function createSesEmailProvider(opts: SesProviderOptions): EmailProvider {
  // The SDK is loaded only once SES is chosen: it adds about 20 MB to every process that imports it.
  const sdk = import('@aws-sdk/client-sesv2').then((m) => ({
    client: new m.SESv2Client(awsClientOptions(opts.aws)),
    SendEmailCommand: m.SendEmailCommand,
  }));
  sdk.catch(() => {}); // a failed load is the first send's error
  const composer = createComposer();

  return {
    name: 'ses',
    async send(msg: EmailMessage): Promise<ProviderResult> {
      const raw = await composeRaw(composer, msg);
      const { client, SendEmailCommand } = await sdk;
      try {
        const out = await client.send(
          new SendEmailCommand({
            FromEmailAddress: msg.from.address,
            Destination: { ToAddresses: [msg.to] },
            Content: { Raw: { Data: raw } },
            ...(opts.configurationSet ? { ConfigurationSetName: opts.configurationSet } : {}),
            // Tags travel with every event SES publishes for the message, so a receipt finds its notification
            // even without the MessageId.
            EmailTags: [{ Name: 'notification_id', Value: msg.notificationId }],
          }),
        );
        return { outcome: 'accepted', reference: out.MessageId ?? null, response: 'accepted by SES' };
      } catch (err) {
        return classifySesError(err as AwsError);
      }
    },
    async close() {
      (await sdk.catch(() => null))?.client.destroy();
      composer.close();
    },
  };
}

type Composer = ReturnType<typeof createComposer>;

/** Renders to a Buffer with CRLF line ends, as the message goes on the wire. */
function createComposer() {
  return nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
}

async function composeRaw(composer: Composer, msg: EmailMessage): Promise<Uint8Array> {
  const info = await composer.sendMail(mailOptions(msg));
  return info.message as Buffer;
}

/**
 * Who is at fault decides the outcome. `permanent-failure` is for this message or this recipient only: resending
 * the same bytes to the same address would be refused again. Anything about our account or configuration
 * (paused, suspended, unverified domain, missing configuration set, refused credentials) is `retry`: the operator
 * can fix it, and if they do not the retries end as technical-failure, which is Envoi's fault, not the recipient's.
 */
export function classifySesError(err: AwsError): ProviderResult {
  const response = describeAwsError(err);
  const status = awsErrorStatus(err);
  switch (err.name) {
    case 'TooManyRequestsException':
    case 'LimitExceededException': // the sending rate or daily quota
    case 'ThrottlingException':
      return { outcome: 'throttled', response };
    case 'MessageRejected':
      // In the sandbox SES also refuses unverified recipients with MessageRejected: an account state, not the
      // recipient's fault.
      if (/not verified/i.test(err.message)) return { outcome: 'retry', response };
      return { outcome: 'permanent-failure', response };
    case 'BadRequestException':
      // The request for this message is malformed (an illegal address, a message too large): it would fail again.
      return { outcome: 'permanent-failure', response };
    case 'MailFromDomainNotVerifiedException':
    case 'AccountSuspendedException':
    case 'SendingPausedException':
    case 'NotFoundException':
      return { outcome: 'retry', response };
  }
  if (status === 429) return { outcome: 'throttled', response };
  // 5xx, a refused signature or key (403), a timeout or a broken connection.
  return { outcome: 'retry', response };
}
