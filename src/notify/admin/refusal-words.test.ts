import { describe, expect, it } from 'vitest';
import type { JobStatus } from '../vocabulary.ts';
import { MESSAGES, translator } from '../../platform/ui/i18n/index.ts';
import { refusalAnswer } from '../api/v2/refusal-wire.ts';
import { PHONE_ERRORS } from '../../platform/recipients.ts';
import type { Refusal, RefusalCode, RefusalOf } from '../sending/refusals.ts';
import { refusalField, refusalWords } from './refusal-words.ts';

const SERVICE = '5b1f5e0e-8c0a-4c55-9d0e-3a1f2b3c4d5e';
const ID = '0d6f3c1a-2b4e-4f5a-8c9d-1e2f3a4b5c6d';

// Every code, each of its variants once: the type makes a code missing here a compile error.
const EXAMPLES: { [C in RefusalCode]: RefusalOf<C>[] } = {
  'rate-limit': [{ code: 'rate-limit', keyType: 'normal', limit: 3000 }],
  'daily-limit': (['email', 'sms', 'international_sms'] as const).map((channel) => ({
    code: 'daily-limit',
    channel,
    limit: 50,
  })),
  'channel-not-allowed': [
    { code: 'channel-not-allowed', channel: 'email' },
    { code: 'channel-not-allowed', channel: 'sms' },
  ],
  'template-not-found': [{ code: 'template-not-found' }],
  'template-wrong-type': [{ code: 'template-wrong-type', templateType: 'email', channel: 'sms' }],
  'template-deleted': [{ code: 'template-deleted' }],
  'job-template-deleted': [{ code: 'job-template-deleted', templateId: ID }],
  'missing-personalisation': [{ code: 'missing-personalisation', names: ['name', 'code'] }],
  'unsendable-character': [{ code: 'unsendable-character', field: 'reference' }],
  'unknown-sender': [
    { code: 'unknown-sender', channel: 'email', senderId: ID, serviceId: SERVICE },
    { code: 'unknown-sender', channel: 'sms', senderId: ID, serviceId: SERVICE },
  ],
  'invalid-recipient': [
    { code: 'invalid-recipient', problem: 'email' },
    ...(Object.keys(PHONE_ERRORS) as (keyof typeof PHONE_ERRORS)[]).map((problem) => ({
      code: 'invalid-recipient' as const,
      problem,
    })),
  ],
  'recipient-not-allowed': [
    { code: 'recipient-not-allowed', restriction: 'team-key' },
    { code: 'recipient-not-allowed', restriction: 'trial-mode' },
  ],
  'international-not-allowed': [{ code: 'international-not-allowed' }],
  'files-not-set-up': [{ code: 'files-not-set-up', serviceId: SERVICE }],
  'file-by-text': [{ code: 'file-by-text' }],
  'empty-message': [{ code: 'empty-message' }],
  'too-long': [
    { code: 'too-long', channel: 'email', size: 2_000_001, limit: 2_000_000 },
    { code: 'too-long', channel: 'sms', size: 613, limit: 612 },
  ],
  'scheduled-in-past': [{ code: 'scheduled-in-past' }],
  'scheduled-too-far': [{ code: 'scheduled-too-far', maxHours: 96 }],
  'job-not-found': [{ code: 'job-not-found' }],
  'job-not-cancellable': (['cancelled', 'in progress'] as JobStatus[]).map((status) => ({
    code: 'job-not-cancellable',
    status,
  })),
};

const ALL: Refusal[] = Object.values(EXAMPLES).flat();
const situation = { templateType: 'sms' as const, dailyLimit: 50, siteRoot: 'https://envoi.example/' };

describe('the catalogue of refusals', () => {
  it.each(ALL.map((r) => [JSON.stringify(r), r] as const))('%s has a wire answer', (_, refusal) => {
    const answer = refusalAnswer(refusal, situation.siteRoot);
    expect([400, 404, 429]).toContain(answer.status);
    expect(answer.error).toMatch(/^[A-Z]\w+$/);
    expect(answer.message).not.toMatch(/undefined|\[object/);
    expect(answer.message.trim()).not.toBe('');
  });

  it.each(ALL.map((r) => [JSON.stringify(r), r] as const))('%s has words in English and French', (_, refusal) => {
    for (const locale of ['en', 'fr'] as const) {
      const ui = translator(locale);
      const { key, params } = refusalWords(refusal, situation, ui);
      expect(MESSAGES[locale][key], `${locale} ${key}`).toBeDefined();
      expect(ui.t(key, params)).not.toMatch(/\{\w+\}/);
    }
  });

  it('puts a refusal against the field it is about', () => {
    expect(refusalField({ code: 'unknown-sender', channel: 'sms', senderId: ID, serviceId: SERVICE })).toBe('sender');
    expect(refusalField({ code: 'recipient-not-allowed', restriction: 'trial-mode' })).toBe('recipient');
    expect(refusalField({ code: 'daily-limit', channel: 'international_sms', limit: 5 })).toBe('recipient');
    expect(refusalField({ code: 'daily-limit', channel: 'sms', limit: 5 })).toBeNull();
    expect(refusalField({ code: 'too-long', channel: 'sms', size: 613, limit: 612 })).toBeNull();
  });
});
