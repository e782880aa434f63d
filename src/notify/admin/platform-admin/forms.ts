/** The daily limits form of a service's platform-admin page. */
import type { FieldError } from '../../../platform/ui/layout.ts';
import type { UiContext } from '../../../platform/ui/context.ts';
import { limitProblems, type DailyLimitsInput } from '../../settings/daily-limits.ts';
import type { Form } from './scope.ts';

const FIELD = { email: 'email', sms: 'sms', internationalSms: 'international_sms' } as const;

/** The limits as typed, and an error for each one that is not a whole number in range. */
export function readLimits(ui: UiContext, body: Form): { limits: DailyLimitsInput; errors: FieldError[] } {
  const limits = {
    email: (body.email ?? '').trim(),
    sms: (body.sms ?? '').trim(),
    internationalSms: (body.international_sms ?? '').trim(),
  };
  const errors = limitProblems(limits).map((p) => ({
    field: FIELD[p],
    message: ui.t('platformServices.limits.invalid'),
  }));
  return { limits, errors };
}
