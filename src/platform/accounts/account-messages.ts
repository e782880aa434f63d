/**
 * The emails and text messages the platform sends to the people who use Envoi (address confirmation, sign-in codes,
 * password resets, invitations, decisions on going live). The platform only names them: a product that sends
 * messages implements the delivery (Notify, through an internal service of its own), and the composition root
 * passes it in.
 */

export type Language = 'en' | 'fr';

/** Envoi's own service, which sends these messages; hidden from the services people manage. */
export const SYSTEM_SERVICE_ID = 'e5e5e5e5-0000-4000-8000-000000000001';

export type AccountMessageName =
  | 'email-confirmation'
  | 'sign-in-code'
  | 'sign-in-code-sms'
  | 'password-reset'
  | 'team-invitation'
  | 'go-live-approved'
  | 'go-live-declined';

export interface AccountMessages {
  /** Queues one message to `recipient` (an email address or phone number); resolves once it is committed. */
  deliver(
    name: AccountMessageName,
    language: Language,
    recipient: string,
    personalisation: Record<string, string>,
  ): Promise<string>;
}
