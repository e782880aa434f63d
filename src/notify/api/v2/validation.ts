/**
 * JSON Schema validation that reports errors in the words of Notify's API: every error at once, each as
 * "<field> <message>", quotes removed, duplicates dropped (notify-api-v2.md §1). Formats that carry their own
 * message (uuid, email, phone, datetime) are a custom keyword, `check`, whose function returns the message or null.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { badRequest, ValidationErrors } from './errors.ts';

export type Check = (value: unknown) => string | null;

export interface ValidatorOptions {
  checks: Record<string, Check>;
}

export function createValidatorFactory({ checks }: ValidatorOptions) {
  const ajv = new Ajv({ allErrors: true, strict: false, messages: false, verbose: true });
  ajv.addKeyword({
    keyword: 'check',
    errors: true,
    validate: function validateCheck(this: unknown, name: string, data: unknown) {
      const fn = checks[name];
      if (!fn) throw new Error(`unknown check ${name}`);
      const message = fn(data);
      if (message === null) return true;
      (validateCheck as unknown as { errors: Partial<ErrorObject>[] }).errors = [
        { keyword: 'check', message, params: {} },
      ];
      return false;
    },
  });

  /** Returns a function that throws ValidationErrors (or a NUL's refusal) or returns the data unchanged. */
  return function compile<T>(schema: object): (data: unknown) => T {
    const validate: ValidateFunction = ajv.compile(schema);
    return (data: unknown) => {
      if (!validate(data)) throw new ValidationErrors(describeErrors(validate.errors ?? [], schema, data));
      const field = fieldWithNul(data);
      if (field !== null) throw badRequest(`${field} ${UNSENDABLE}`);
      return data as T;
    };
  };
}

// As the send rules word it (refusal-wire.ts), so that a send says the same whichever check sees it first.
const UNSENDABLE = 'contains a character that cannot be sent: a null character or half of a surrogate pair';

/**
 * The first field (or `field key` inside an object such as personalisation) whose text holds a NUL, which
 * PostgreSQL's text cannot store; null when none does. Lists are left to their own checks (a bulk list's rows).
 */
function fieldWithNul(data: unknown): string | null {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return null;
  for (const [field, value] of Object.entries(data)) {
    if (field.includes('\0') || (typeof value === 'string' && value.includes('\0'))) return field.replace(/\0/g, '?');
    if (value === null || typeof value !== 'object' || Array.isArray(value)) continue;
    for (const [key, inner] of Object.entries(value)) {
      if (key.includes('\0') || (typeof inner === 'string' && inner.includes('\0'))) {
        return `${field} ${key.replace(/\0/g, '?')}`;
      }
    }
  }
  return null;
}

function describeErrors(errors: ErrorObject[], schema: object, data: unknown): string[] {
  const messages: string[] = [];
  for (const error of errors) {
    const message = describe(error, schema, data).replace(/'/g, '').trim();
    if (!messages.includes(message)) messages.push(message);
  }
  return messages;
}

function describe(error: ErrorObject, _rootSchema: object, data: unknown): string {
  const path = error.instancePath.split('/').slice(1).map(unescapePointer);
  const field = path[0];
  const prefixed = (text: string) => (field === undefined ? text : `${field} ${text}`);
  const custom = (error.parentSchema as { validationMessage?: string } | undefined)?.validationMessage;
  if (custom && error.keyword !== 'required' && error.keyword !== 'additionalProperties') return prefixed(custom);
  const value = valueAt(data, path);
  switch (error.keyword) {
    case 'required':
      return prefixed(`${(error.params as { missingProperty: string }).missingProperty} is a required property`);
    case 'additionalProperties': {
      // jsonschema reports every unexpected property of an object in one message.
      const extra = Object.keys((value ?? {}) as object).filter(
        (k) => !Object.hasOwn(propertiesOf(error.parentSchema), k),
      );
      const names = (extra.length ? extra : [(error.params as { additionalProperty: string }).additionalProperty]).map(
        pyRepr,
      );
      return prefixed(
        `Additional properties are not allowed (${names.join(', ')} ${names.length > 1 ? 'were' : 'was'} unexpected)`,
      );
    }
    case 'type': {
      const types = ([] as string[]).concat((error.params as { type: string | string[] }).type);
      return prefixed(`${pyRepr(value)} is not of type ${types.map((t) => `'${t}'`).join(', ')}`);
    }
    case 'enum':
      return prefixed(
        `${pyRepr(value)} is not one of ${pyRepr((error.params as { allowedValues: unknown[] }).allowedValues)}`,
      );
    case 'maxLength':
    case 'maxItems':
      return prefixed(`${pyRepr(value)} is too long`);
    case 'minLength':
      return prefixed(`${pyRepr(value)} is too short`);
    case 'minItems':
      return prefixed(`${pyRepr(value)} is too short`);
    case 'pattern':
      return prefixed(`${pyRepr(value)} does not match ${pyRepr((error.params as { pattern: string }).pattern)}`);
    case 'check':
      return prefixed(error.message ?? 'is not valid');
    case 'maximum':
      return prefixed(`${pyRepr(value)} is greater than the maximum of ${(error.params as { limit: number }).limit}`);
    case 'minimum':
      return prefixed(`${pyRepr(value)} is less than the minimum of ${(error.params as { limit: number }).limit}`);
    default:
      return prefixed(error.message ?? `is not valid (${error.keyword})`);
  }
}

function propertiesOf(schema: unknown): Record<string, unknown> {
  return (schema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {};
}

function unescapePointer(s: string): string {
  return s.replace(/~1/g, '/').replace(/~0/g, '~');
}

function valueAt(data: unknown, path: string[]): unknown {
  let v: unknown = data;
  for (const key of path) v = v == null ? undefined : (v as Record<string, unknown>)[key];
  return v;
}

/** How Python prints a JSON value, since the reference's messages are Python reprs (quotes later removed). */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  return `{${Object.entries(value as object)
    .map(([k, v]) => `'${k}': ${pyRepr(v)}`)
    .join(', ')}}`;
}
