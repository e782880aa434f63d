/** Reading the team pages' forms: fields that may come once or several times. */
/** Form values that may come once or several times (checkboxes), as a list of strings. */
export function formList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

export const formText = (value: string | string[] | undefined): string =>
  (Array.isArray(value) ? (value[0] ?? '') : (value ?? '')).trim();
