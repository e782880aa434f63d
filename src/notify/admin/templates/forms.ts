/** Reading the templates forms: a template's fields, checked, with errors in the page's language. */
import type { UiContext } from '../../../platform/ui/context.ts';
import type { FieldError } from '../../../platform/ui/layout.ts';
import type { TemplateCategory, TemplateType } from '../../vocabulary.ts';
import { TEMPLATE_CATEGORIES, TEMPLATE_NAME_MAX, type TemplateFields } from '../../templates/templates.ts';
import { type Form, SUBJECT_MAX } from './scope.ts';
import { smsStats } from './views.ts';

/** The form's fields, checked; errors in the page's language. */
export function readTemplateFields(
  ui: UiContext,
  type: TemplateType,
  body: Form,
): { fields: TemplateFields; folderId: string | null; errors: FieldError[] } {
  const { t } = ui;
  const fields: TemplateFields = {
    name: (body.name ?? '').trim(),
    subject: type === 'email' ? (body.subject ?? '').trim() : null,
    content: (body.content ?? '').replace(/\r\n/g, '\n'),
    category: (TEMPLATE_CATEGORIES as readonly string[]).includes(body.category ?? '')
      ? (body.category as TemplateCategory)
      : 'normal',
  };
  const errors: FieldError[] = [];
  if (!fields.name) errors.push({ field: 'name', message: t('templates.field.name.missing') });
  else if (fields.name.length > TEMPLATE_NAME_MAX)
    errors.push({ field: 'name', message: t('templates.field.name.tooLong', { max: TEMPLATE_NAME_MAX }) });
  if (type === 'email') {
    if (!fields.subject) errors.push({ field: 'subject', message: t('templates.field.subject.missing') });
    else if (fields.subject.length > SUBJECT_MAX)
      errors.push({ field: 'subject', message: t('templates.field.subject.tooLong', { max: SUBJECT_MAX }) });
  }
  if (!fields.content.trim()) errors.push({ field: 'content', message: t('templates.field.content.missing') });
  else if (type === 'sms' && smsStats(fields.content).tooLong) {
    errors.push({
      field: 'content',
      message: t('templates.field.content.smsTooLong', {
        count: ui.formatNumber(smsStats(fields.content).characters),
      }),
    });
  }
  if (body.category !== undefined && !(TEMPLATE_CATEGORIES as readonly string[]).includes(body.category)) {
    errors.push({ field: 'category', message: t('templates.field.category.missing') });
  }
  return { fields, folderId: body.folder ? body.folder : null, errors };
}
