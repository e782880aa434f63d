/** Permissions shown as a list and as the checkboxes of the team's forms. */
import { html, type Html } from '../../ui/html.ts';
import type { FieldError } from '../../ui/layout.ts';
import type { UiContext } from '../../ui/context.ts';
import type { Permission } from '../../database/schema.ts';
import { ALL_PERMISSIONS } from '../../services/team.ts';
/** The permissions as a list of their names. */
export function permissionList(ui: UiContext, permissions: readonly Permission[]): Html {
  if (permissions.length === 0) return html`<p>${ui.t('team.permission.none')}</p>`;
  return html`<ul>${permissions.map((p) => html`<li>${ui.t(`team.permission.${p}`)}</li>`)}</ul>`;
}

export function permissionCheckboxes(ui: UiContext, selected: readonly string[], errors?: readonly FieldError[]): Html {
  const { t } = ui;
  const error = errors?.find((e) => e.field === 'permissions');
  return html`<div class="field${error ? ' has-error' : ''}"><fieldset aria-describedby="permissions-hint${error ? ' permissions-error' : ''}">
  <legend>${t('team.field.permissions')}</legend>
  <span class="hint" id="permissions-hint">${t('team.field.permissionsHint')}</span>
  ${error && html`<span class="error-message" id="permissions-error">${error.message}</span>`}
  ${ALL_PERMISSIONS.map(
    (p, i) => html`<div class="radio checkbox">
    <input type="checkbox" id="${i === 0 ? 'permissions' : `permissions-${p}`}" name="permissions" value="${p}"${selected.includes(p) ? ' checked' : ''} aria-describedby="permissions-${p}-hint">
    <label for="${i === 0 ? 'permissions' : `permissions-${p}`}">${t(`team.permission.${p}`)}<span class="hint" id="permissions-${p}-hint">${t(`team.permissionHint.${p}`)}</span></label>
  </div>`,
  )}
</fieldset></div>`;
}
