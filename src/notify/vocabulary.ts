/** Notify's words that its tables, rules, API and pages share. */

export type EmailBranding = 'none' | 'gc' | 'logo';

export type TemplateType = 'email' | 'sms';

export type TemplateCategory = 'high' | 'normal' | 'bulk';

export type KeyType = 'normal' | 'team' | 'test';

/** `error`: every attempt failed (JOB_MAX_ATTEMPTS); none of its rows became a notification. */
export type JobStatus = 'pending' | 'scheduled' | 'in progress' | 'finished' | 'cancelled' | 'error';

export type SuppressionReason = 'hard-bounce' | 'complaint' | 'opted-out' | 'manual';

export type CallbackType = 'delivery_status' | 'inbound_sms' | 'complaint';
