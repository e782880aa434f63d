/**
 * Twilio's webhooks: message status callbacks (POST /providers/twilio/status, the StatusCallback URL the Twilio
 * provider sets on each message) and text messages from the public (POST /providers/twilio/inbound, the number's
 * "A message comes in" webhook). Both are form posts signed with the account's auth token; anything unsigned,
 * or signed with another token, is refused with 403 before its content is looked at.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../../platform/config.ts';
import type { Db } from '../../../platform/database/connection.ts';
import type { Logger } from '../../../platform/queue/background.ts';
import type { ReceiptSink } from '../../delivery/receipts/types.ts';
import { storeInboundTexts } from '../../delivery/receipts/inbound.ts';
import { twilioStatusReceipt, verifyTwilioSignature } from '../../delivery/receipts/twilio.ts';

export interface TwilioRoutesOptions {
  sink: ReceiptSink;
  db: Db;
  config: Config;
  logger: Logger;
}

/** A form body as Twilio sent it: every name and value, in order, repeats kept (the signature covers them all). */
type FormPairs = [string, string][];

const FORM = 'application/x-www-form-urlencoded';
/** Twilio's posts are a few kilobytes; a text message body is at most 1,600 characters. */
const FORM_BODY_LIMIT = 64 * 1024;
/** Twilio SIDs: two letters and 32 hex digits; a little slack for other resource kinds. */
const SID = /^[A-Za-z]{2}[0-9A-Za-z]{16,62}$/;
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

export async function twilioRoutes(app: FastifyInstance, opts: TwilioRoutesOptions) {
  // Scoped to this plugin: the v2 API keeps answering form posts with its own 415/400.
  if (!app.hasContentTypeParser(FORM)) {
    app.addContentTypeParser(FORM, { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT }, (_request, body, done) => {
      done(null, [...new URLSearchParams(body as string)]);
    });
  }
  app.post('/providers/twilio/status', (request, reply) => twilioStatus(opts, request, reply));
  app.post('/providers/twilio/inbound', (request, reply) => twilioInbound(opts, request, reply));
}

/** Checks the signature; on failure answers 403 and returns null. */
function signedForm(
  opts: TwilioRoutesOptions,
  request: FastifyRequest,
  reply: FastifyReply,
): Map<string, string> | null {
  const { config, logger } = opts;
  // The form parser below, or the raw text when an enclosing plugin (routes.ts) reads every body as text.
  const body = request.body;
  const pairs: FormPairs = Array.isArray(body)
    ? (body as FormPairs)
    : typeof body === 'string'
      ? [...new URLSearchParams(body)]
      : [];
  const token = config.twilio.authToken;
  if (!token) {
    logger.warn(
      { url: request.url },
      'a Twilio webhook arrived but TWILIO_AUTH_TOKEN is not set, so it cannot be verified',
    );
    reply.code(403).send({ result: 'error', message: 'Twilio webhooks are not enabled: TWILIO_AUTH_TOKEN is not set' });
    return null;
  }
  const header = request.headers['x-twilio-signature'];
  const signature = typeof header === 'string' ? header : undefined;
  if (!verifyTwilioSignature(token, signature, requestedUrl(request, config.publicUrl), pairs)) {
    logger.warn(
      { url: request.url, signed: signature !== undefined },
      'refused a Twilio webhook with a missing or wrong signature',
    );
    reply.code(403).send({ result: 'error', message: 'Invalid or missing X-Twilio-Signature' });
    return null;
  }
  return new Map(pairs);
}

function badRequest(reply: FastifyReply, message: string) {
  return reply.code(400).send({ result: 'error', message });
}

/** A message's status from Twilio, applied as a receipt. */
async function twilioStatus(opts: TwilioRoutesOptions, request: FastifyRequest, reply: FastifyReply) {
  const { sink, logger } = opts;
  const form = signedForm(opts, request, reply);
  if (!form) return reply;
  const messageSid = form.get('MessageSid') ?? form.get('SmsSid') ?? '';
  const messageStatus = form.get('MessageStatus') ?? form.get('SmsStatus') ?? '';
  if (!SID.test(messageSid)) return badRequest(reply, 'MessageSid is missing or is not a Twilio message SID');
  if (!/^[a-z_]{1,32}$/i.test(messageStatus))
    return badRequest(reply, 'MessageStatus is missing or not a Twilio status');
  const errorCode = form.get('ErrorCode')?.trim() || null;
  if (errorCode !== null && !/^\d{1,8}$/.test(errorCode)) return badRequest(reply, 'ErrorCode must be a number');

  const receipt = twilioStatusReceipt(
    { messageSid, messageStatus, errorCode, errorMessage: form.get('ErrorMessage')?.slice(0, 500) || null },
    new Date(),
  );
  if (receipt) {
    try {
      await sink.submit([receipt]);
    } catch (err) {
      logger.error({ err: (err as Error).message, messageSid }, 'a Twilio status could not be stored');
      return reply.code(503).send({ result: 'error', message: 'the status could not be stored now; try again' });
    }
  }
  return reply.code(204).send();
}

/** A text from the public, stored; answered with empty TwiML so that Twilio replies nothing. */
async function twilioInbound(opts: TwilioRoutesOptions, request: FastifyRequest, reply: FastifyReply) {
  const { db, logger } = opts;
  const form = signedForm(opts, request, reply);
  if (!form) return reply;
  const from = form.get('From')?.trim() ?? '';
  const to = form.get('To')?.trim() ?? '';
  if (from === '' || from.length > 64) return badRequest(reply, 'From is missing or too long');
  if (to === '' || to.length > 64) return badRequest(reply, 'To is missing or too long');
  try {
    await storeInboundTexts(
      db,
      [
        {
          from,
          to,
          content: form.get('Body') ?? '',
          receivedAt: new Date(),
          reference: form.get('MessageSid') ?? null,
        },
      ],
      logger,
    );
  } catch (err) {
    logger.error(
      { err: (err as Error).message, messageSid: form.get('MessageSid') },
      'an inbound Twilio text could not be stored',
    );
    return reply.code(503).send({ result: 'error', message: 'the text could not be stored now; try again' });
  }
  // An empty TwiML answer: Twilio sends no automatic reply to the member of the public.
  return reply.code(200).type('text/xml').send(EMPTY_TWIML);
}

/**
 * The URL Twilio requested, which its signature covers: the configured public URL (behind a proxy, ENVOI_PUBLIC_URL),
 * never the Host a client sends.
 */
function requestedUrl(request: FastifyRequest, publicUrl: string): string {
  return publicUrl + request.url;
}
