// The template language: placeholders, email markdown and documents, text message encoding, sanitising.
export { missingPersonalisation, normaliseKey, placeholderNames } from './personalisation.ts';
export {
  emailPlainText,
  renderEmailBody,
  renderEmailDocument,
  renderEmailHtml,
  renderEmailSubject,
  type HeaderBranding,
} from './email.ts';
export { renderSms, SMS_CHARACTER_LIMIT } from './sms.ts';
export { encodeForSms, smsEncoding, smsFragmentCount } from './sms-encoding.ts';
export { sanitisePersonalisation } from './sanitise.ts';
