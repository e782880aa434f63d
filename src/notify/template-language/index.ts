// The template language: placeholders, email markdown and documents, text message encoding, sanitising.

export {
  escapeHtml,
  fillPlaceholders,
  missingPersonalisation,
  normaliseKey,
  placeholderNames,
  str2bool,
  type FillOptions,
  type Personalisation,
} from './personalisation.ts';
export {
  emailHeader,
  emailPlainText,
  renderEmailBody,
  renderEmailDocument,
  renderEmailHtml,
  renderEmailSubject,
  type EmailDocument,
  type HeaderBranding,
} from './email.ts';
export { renderSms, smsTooLong, SMS_CHARACTER_LIMIT, type RenderedSms } from './sms.ts';
export { encodeForSms, smsEncoding, smsFragmentCount, type SmsEncoding } from './sms-encoding.ts';
export { sanitisePersonalisation, sanitiseText, type SanitiseResult, type SanitisedValue } from './sanitise.ts';
