/**
 * /providers/*: where providers tell Envoi what happened to messages, and hand over replies from the public.
 * No API key here: each source proves itself (an SNS signature, a Twilio signature). A hook answers 2xx only once
 * what it carried is committed, so that the provider retries anything lost; bad input gets a 4xx with a plain JSON
 * message ({"result": "error", "message": …}), never a 500.
 *
 *   POST /providers/ses                 SNS → SES events (delivery, bounce, complaint, reject)
 *   POST /providers/aws-sms             SNS → End User Messaging SMS delivery events
 *   POST /providers/aws-sms/inbound     SNS → End User Messaging two-way SMS (replies from the public)
 *   POST /providers/twilio/status       Twilio message status callbacks (twilio.ts)
 *   POST /providers/twilio/inbound      Twilio incoming messages (twilio.ts)
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../../platform/config.ts';
import type { Db } from '../../../platform/database/connection.ts';
import type { Logger } from '../../../platform/queue/background.ts';
import type { Receipt, ReceiptSink } from '../../delivery/receipts/types.ts';
import { SnsError, type SnsMessage, type SnsVerifier } from '../../delivery/receipts/sns.ts';
import { ReceiptFormatError, sesEventReceipts } from '../../delivery/receipts/ses-events.ts';
import { awsSmsEventReceipt, awsSmsInboundText } from '../../delivery/receipts/aws-sms-events.ts';
import { storeInboundTexts } from '../../delivery/receipts/inbound.ts';
import { twilioRoutes } from './twilio.ts';

export interface ProviderRoutesOptions {
  sink: ReceiptSink;
  db: Db;
  snsVerifier: SnsVerifier;
  logger?: Logger;
  config: Config;
}

// SNS messages are at most 256 KB; room for the envelope around them.
const BODY_LIMIT = 1024 * 1024;

const STATUS_OF_SNS_ERROR = { malformed: 400, forbidden: 403, unavailable: 503 } as const;

function answer(reply: FastifyReply, code: number, message: string) {
  return reply.code(code).send(code < 300 ? { result: 'success', message } : { result: 'error', message });
}

export async function providerRoutes(app: FastifyInstance, opts: ProviderRoutesOptions) {
  const log: Logger = opts.logger ?? app.log;
  const hooks: SnsHooks = { verifier: opts.snsVerifier, sink: opts.sink, log };

  // SNS posts JSON as text/plain; Twilio posts a form. Every route here reads the raw text itself.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_request, body, done) =>
    done(null, body),
  );

  const routeOptions = { bodyLimit: BODY_LIMIT };

  app.post('/providers/ses', routeOptions, (request, reply) => receiptHook(hooks, request, reply, sesEventReceipts));

  app.post('/providers/aws-sms', routeOptions, (request, reply) =>
    receiptHook(hooks, request, reply, (payload, at) => {
      const receipt = awsSmsEventReceipt(payload, at);
      return receipt ? [receipt] : [];
    }),
  );

  app.post('/providers/aws-sms/inbound', routeOptions, (request, reply) =>
    awsSmsInbound(hooks, opts.db, request, reply),
  );

  // Twilio status callbacks and inbound texts (api/providers/twilio.ts) register below this line.
  await app.register(twilioRoutes, { sink: opts.sink, db: opts.db, config: opts.config, logger: log });
}

/** What the SNS hooks share: the signature check, where receipts go, and the log. */
interface SnsHooks {
  verifier: SnsVerifier;
  sink: ReceiptSink;
  log: Logger;
}

/**
 * The verified SNS Notification in the request, or null once the request has been answered: a bad body or
 * signature (4xx), or a subscription (un)confirmation, which is handled here.
 */
async function snsNotification(
  hooks: SnsHooks,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<SnsMessage | null> {
  const { verifier, log } = hooks;
  let body: unknown;
  try {
    body = JSON.parse(typeof request.body === 'string' ? request.body : '');
  } catch {
    await answer(reply, 400, 'the body is not JSON: expected an Amazon SNS message');
    return null;
  }
  let message: SnsMessage;
  try {
    message = await verifier.verify(body);
    if (message.Type === 'SubscriptionConfirmation') {
      await verifier.confirmSubscription(message);
      log.info({ topic: message.TopicArn, url: request.url }, 'SNS subscription confirmed');
      await answer(reply, 200, 'subscription confirmed');
      return null;
    }
  } catch (err) {
    if (!(err instanceof SnsError)) throw err;
    log.warn({ url: request.url, reason: err.message }, 'SNS message refused');
    await answer(reply, STATUS_OF_SNS_ERROR[err.kind], err.message);
    return null;
  }
  if (message.Type === 'UnsubscribeConfirmation') {
    log.warn(
      { topic: message.TopicArn, url: request.url },
      'SNS subscription ended: this topic will send nothing more',
    );
    await answer(reply, 200, 'unsubscribe noted');
    return null;
  }
  return message;
}

/** The JSON payload of a Notification and the time SNS published it. */
function payloadOf(message: SnsMessage): { payload: unknown; at: Date } {
  let payload: unknown;
  try {
    payload = JSON.parse(message.Message);
  } catch {
    throw new ReceiptFormatError('the SNS message does not carry JSON');
  }
  const at = new Date(message.Timestamp);
  return { payload, at: Number.isNaN(at.getTime()) ? new Date() : at };
}

/** Turns a verified Notification into receipts and answers once they are committed. */
async function receiptHook(
  hooks: SnsHooks,
  request: FastifyRequest,
  reply: FastifyReply,
  toReceipts: (payload: unknown, at: Date) => Receipt[],
) {
  const { sink, log } = hooks;
  const message = await snsNotification(hooks, request, reply);
  if (!message) return reply;
  let receipts: Receipt[];
  try {
    const { payload, at } = payloadOf(message);
    receipts = toReceipts(payload, at);
  } catch (err) {
    if (!(err instanceof ReceiptFormatError)) throw err;
    log.warn(
      { url: request.url, messageId: message.MessageId, reason: err.message },
      'SNS message with an unreadable event',
    );
    return answer(reply, 400, err.message);
  }
  let waiting: number;
  try {
    ({ waiting } = await sink.submit(receipts));
  } catch (err) {
    log.error({ err, messageId: message.MessageId }, 'receipts could not be stored; SNS will send them again');
    return answer(reply, 503, 'receipts could not be stored now; try again');
  }
  // Its notification is not committed yet: SNS keeps the message and delivers it again, so a crash before the
  // in-memory retry applies it loses nothing (a receipt applied twice changes nothing the second time).
  if (waiting > 0)
    return answer(reply, 503, `${waiting} receipt(s) for a notification not found yet; deliver again later`);
  return answer(reply, 200, `${receipts.length} receipt(s) taken`);
}

/** A reply from the public through End User Messaging, stored once its SNS message is verified. */
async function awsSmsInbound(hooks: SnsHooks, db: Db, request: FastifyRequest, reply: FastifyReply) {
  const { log } = hooks;
  const message = await snsNotification(hooks, request, reply);
  if (!message) return reply;
  let text;
  try {
    const { payload, at } = payloadOf(message);
    text = awsSmsInboundText(payload, at);
  } catch (err) {
    if (!(err instanceof ReceiptFormatError)) throw err;
    return answer(reply, 400, err.message);
  }
  try {
    await storeInboundTexts(db, [text], log);
  } catch (err) {
    log.error({ err, messageId: message.MessageId }, 'an inbound text could not be stored; SNS will send it again');
    return answer(reply, 503, 'the text could not be stored now; try again');
  }
  return answer(reply, 200, 'text received');
}
