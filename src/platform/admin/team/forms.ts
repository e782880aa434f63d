/** Reading the team pages' forms: fields that may come once or several times, and the invitation's checks. */
import type { FieldError } from '../../ui/layout.ts';
import type { UiContext } from '../../ui/context.ts';
import type { Form } from './scope.ts';

/** Form values that may come once or several times (checkboxes), as a list of strings. */
export function formList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

export const formText = (value: string | string[] | undefined): string =>
  (Array.isArray(value) ? (value[0] ?? '') : (value ?? '')).trim();

/** The invitation form: an address and at least one permission. */
export function readInvitation(
  ui: UiContext,
  body: Form,
): { email: string; permissions: string[]; errors: FieldError[] } {
  const email = formText(body.email);
  const permissions = formList(body.permissions);
  const errors: FieldError[] = [];
  if (!email) errors.push({ field: 'email', message: ui.t('team.error.email-missing') });
  if (permissions.length === 0) errors.push({ field: 'permissions', message: ui.t('team.error.no-permissions') });
  return { email, permissions, errors };
}
