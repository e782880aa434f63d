/** Reading the send forms: the sender chosen, one message's fields, the uploaded file, and when to send. */
import type { UiContext } from '../../../platform/ui/context.ts';
import type { FieldError } from '../../../platform/ui/layout.ts';
import type { MultipartForm } from '../../../platform/ui/multipart.ts';
import type { Sender } from '../../settings/senders.ts';
import { MAX_SCHEDULE_HOURS } from '../../sending/send-rules.ts';
import { InvalidRecipientError, validateEmailAddress } from '../../../platform/recipients.ts';
import type { TemplateDetail } from '../../templates/templates.ts';
import { formatFromFilename, type SpreadsheetFormat } from '../../jobs/spreadsheet.ts';
import { placeholderNames } from '../../template-language/index.ts';
import { placeholderFieldId, placeholderValues } from '../templates/views.ts';
import type { Form } from './scope.ts';
import { ownRecipient, SENDER_FIELD, type SendForm, textsOf } from './views.ts';

/**
 * The id to hand on as the API's email_reply_to_id / sms_sender_id: null (the default) when there is no choice,
 * else one of the service's own; anything else (a forged or stale id) is an error on the field.
 */
export function chosenSender(
  ui: UiContext,
  template: TemplateDetail,
  senders: Sender[],
  raw: string | undefined,
): { id: string | null; error?: FieldError } {
  if (senders.length < 2) return { id: null };
  const chosen = senders.find((s) => s.id === raw);
  if (chosen) return { id: chosen.id };
  const key = raw ? `send.sender.unknown.${template.type}` : `send.sender.missing.${template.type}`;
  return { id: null, error: { field: SENDER_FIELD, message: ui.t(key) } };
}

export interface OneMessage {
  form: SendForm;
  /** The address or number to send to. */
  recipient: string;
  personalisation: Record<string, string>;
  senderId: string | null;
  errors: FieldError[];
}

/** One message's form as posted, with its errors in the page's order. */
export function readOneMessage(
  ui: UiContext,
  template: TemplateDetail,
  senders: Sender[],
  body: Form,
  serviceActive: boolean,
): OneMessage {
  const { t } = ui;
  const own = ownRecipient(ui, template);
  const names = placeholderNames(...textsOf(template));
  const values = placeholderValues(names, body);
  const to = body.to === 'me' && own ? 'me' : 'other';
  const recipientInput = (body.recipient ?? '').trim();
  const sender = chosenSender(ui, template, senders, body[SENDER_FIELD]);
  const form: SendForm = { to, recipient: recipientInput, values, senders, sender: body[SENDER_FIELD] };
  const errors: FieldError[] = [];
  if (body.to !== 'me' && body.to !== 'other') errors.push({ field: 'to', message: t('send.one.toMissing') });
  const recipient = to === 'me' ? own! : recipientInput;
  if (to === 'other') {
    const error = recipientError(ui, template, recipientInput);
    if (error) errors.push({ field: 'recipient', message: error });
  }
  if (sender.error) errors.push(sender.error);
  names.forEach((name, i) => {
    if (!(values[name] ?? '').trim())
      errors.push({ field: placeholderFieldId(i), message: t('send.error.placeholderMissing', { name }) });
  });
  if (!serviceActive) errors.unshift({ field: 'send-button', message: t('send.error.suspended') });
  return { form, recipient, personalisation: values, senderId: sender.id, errors };
}

/** What is wrong with the address or number typed in, if anything (the send rules check the rest). */
function recipientError(ui: UiContext, template: TemplateDetail, input: string): string | null {
  const { t } = ui;
  if (!input)
    return t(template.type === 'email' ? 'send.error.recipientMissingEmail' : 'send.error.recipientMissingSms');
  if (template.type === 'email') {
    try {
      validateEmailAddress(input);
    } catch (err) {
      if (!(err instanceof InvalidRecipientError)) throw err;
      return t('send.error.invalidEmail');
    }
  }
  return null;
}

/** The uploaded spreadsheet, or why it cannot be taken (none, not a spreadsheet, too big). */
export function readUploadedFile(
  ui: UiContext,
  body: MultipartForm | undefined,
  maxBytes: number,
): { name: string; format: SpreadsheetFormat; bytes: Buffer } | { error: string } {
  const { t } = ui;
  const file = body?.file;
  let format: SpreadsheetFormat | null = null;
  if (!file || typeof file === 'string') return { error: t('send.upload.fileMissing') };
  if (!(format = formatFromFilename(file.filename))) return { error: t('send.upload.fileType') };
  if (file.bytes.length > maxBytes) return { error: t('send.upload.fileTooBig', { max: '10' }) };
  const bytes = Buffer.from(file.bytes.buffer, file.bytes.byteOffset, file.bytes.length);
  return { name: file.filename, format, bytes };
}

/** When to send a list: now, or at a time within the next 96 hours; or the error on the field. */
export function readWhen(
  ui: UiContext,
  body: Form,
): { when: 'now' | 'later'; scheduledFor: Date | null } | { when?: 'later'; error: FieldError } {
  const { t } = ui;
  const when = body.when === 'later' ? 'later' : body.when === 'now' ? 'now' : null;
  if (!when) return { error: { field: 'when', message: t('send.check.whenMissing') } };
  if (when === 'now') return { when, scheduledFor: null };
  const at = new Date(body.at ?? '');
  const now = Date.now();
  if (Number.isNaN(at.getTime()) || at.getTime() <= now || at.getTime() > now + MAX_SCHEDULE_HOURS * 3_600_000)
    return { when, error: { field: 'at', message: t('send.check.atInvalid', { hours: MAX_SCHEDULE_HOURS }) } };
  return { when, scheduledFor: at };
}
