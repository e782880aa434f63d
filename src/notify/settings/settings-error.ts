/** The refusals of Notify's settings of a service, as codes: the pages word them (`services.error.<code>`). */
import { CodedError } from '../../platform/coded-error.ts';

export type SettingsErrorCode =
  | 'local-part-missing'
  | 'local-part-invalid'
  | 'local-part-taken'
  | 'sender-name-too-long'
  | 'retention-invalid'
  | 'reply-to-invalid'
  | 'reply-to-exists'
  | 'sms-sender-invalid'
  | 'sms-sender-exists'
  | 'default-sender'
  | 'logo-missing'
  | 'logo-type'
  | 'logo-too-big'
  | 'alt-en-missing'
  | 'alt-fr-missing'
  | 'alt-too-long'
  | 'limit-invalid'
  | 'not-ready'
  | 'already-requested'
  | 'already-live'
  | 'main-use-missing'
  | 'volume-invalid'
  | 'reason-missing'
  | 'not-found';

export class SettingsError extends CodedError<SettingsErrorCode> {}
