/**
 * Text messages through AWS End User Messaging SMS (PinpointSMSVoiceV2 SendTextMessage).
 *
 * Origination: a message whose sender is a phone number in E.164 form (+15555550100) goes out from that number,
 * as GC Notify does for a service's dedicated long code; the number must belong to the AWS account, and replies
 * to it reach the service that owns it. Any other sender (the service's name, an alphanumeric id) is not used:
 * Canada and the US do not accept sender ids, and an unregistered one would make every send fail. Those go out
 * from config.awsSms.originationIdentity (a pool, number or registered sender id), or whatever End User
 * Messaging picks when that is unset.
 *
 * Idempotency: SendTextMessage takes no client token. The notification id travels in Context, which comes back
 * in every event for the message, so a resend after a crash is recognisable in the events.
 */
import type { Config } from '../../../platform/config.ts';
import { awsClientOptions, awsErrorStatus, describeAwsError, type AwsError } from './aws-client.ts';
import type { ProviderResult, SmsMessage, SmsProvider } from './types.ts';

/** GC Notify's 3 days: a phone off for longer gets nothing rather than a stale message. */
export const SMS_TIME_TO_LIVE_SECONDS = 259_200;

const PHONE_NUMBER = /^\+[1-9]\d{6,14}$/;

export interface AwsSmsProviderOptions {
  aws: Config['aws'];
  originationIdentity: string | null;
  configurationSet: string | null;
}

export function createAwsSmsProvider(opts: AwsSmsProviderOptions): SmsProvider {
  // The SDK is loaded only once End User Messaging is chosen: it adds about 20 MB to every process that imports it.
  const sdk = import('@aws-sdk/client-pinpoint-sms-voice-v2').then((m) => ({
    client: new m.PinpointSMSVoiceV2Client(awsClientOptions(opts.aws)),
    SendTextMessageCommand: m.SendTextMessageCommand,
  }));
  sdk.catch(() => {}); // a failed load is the first send's error

  return {
    name: 'aws-sms',
    async send(msg: SmsMessage): Promise<ProviderResult> {
      const origination = msg.sender && PHONE_NUMBER.test(msg.sender) ? msg.sender : opts.originationIdentity;
      const { client, SendTextMessageCommand } = await sdk;
      try {
        const out = await client.send(
          new SendTextMessageCommand({
            DestinationPhoneNumber: msg.to,
            MessageBody: msg.body,
            ...(origination ? { OriginationIdentity: origination } : {}),
            ...(opts.configurationSet ? { ConfigurationSetName: opts.configurationSet } : {}),
            MessageType: 'TRANSACTIONAL',
            TimeToLive: SMS_TIME_TO_LIVE_SECONDS,
            Context: { notification_id: msg.notificationId },
          }),
        );
        return { outcome: 'accepted', reference: out.MessageId ?? null, response: 'accepted by End User Messaging' };
      } catch (err) {
        return classifyAwsSmsError(err as AwsError);
      }
    },
    async close() {
      (await sdk.catch(() => null))?.client.destroy();
    },
  };
}

/** Validation reasons that are about the destination number itself, not our request or account. */
const BAD_DESTINATION = new Set(['CANNOT_PARSE', 'COUNTRY_CODE_MISMATCH', 'DESTINATION_COUNTRY_BLOCKED']);

/** Conflict reasons that refuse this destination for good. */
const REFUSED_DESTINATION = new Map([
  [
    'DESTINATION_PHONE_NUMBER_OPTED_OUT',
    'the recipient has opted out of text messages from this sender (replied STOP)',
  ],
  [
    'DESTINATION_PHONE_NUMBER_BLOCKED_BY_PROTECT_NUMBER_OVERRIDE',
    'the destination number is blocked by a protect configuration',
  ],
  [
    'DESTINATION_COUNTRY_BLOCKED_BY_PROTECT_CONFIGURATION',
    'the destination country is blocked by a protect configuration',
  ],
]);

/**
 * `permanent-failure` only when the destination is the problem (unparseable, opted out, blocked country);
 * problems with our account, origination identity or configuration set are `retry`, ending as technical-failure
 * if the operator does not fix them.
 */
export function classifyAwsSmsError(err: AwsError): ProviderResult {
  const response = describeAwsError(err);
  if (err.name === 'ThrottlingException' || awsErrorStatus(err) === 429) return { outcome: 'throttled', response };
  if (err.name === 'ConflictException' && err.Reason) {
    const refused = REFUSED_DESTINATION.get(err.Reason);
    if (refused) return { outcome: 'permanent-failure', response: `${refused} (${response})` };
  }
  if (err.name === 'ValidationException') {
    const aboutDestination = err.Fields?.some((field) => field.Name === 'DestinationPhoneNumber') ?? false;
    if ((err.Reason && BAD_DESTINATION.has(err.Reason)) || aboutDestination) {
      return { outcome: 'permanent-failure', response };
    }
  }
  // Monthly spend limit and other quotas: the account, not the recipient; retried later.
  return { outcome: 'retry', response };
}
