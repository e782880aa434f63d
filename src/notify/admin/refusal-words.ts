/**
 * Every refusal of the domain (sending/refusals.ts) in the admin's words: an i18n key and its parameters, one entry
 * per code (the mapped type makes a forgotten code a compile error), and the form field it is shown against. The
 * refusals the pages have no words of their own for are shown in the API's words, as they always were.
 */
import type { TemplateType } from '../vocabulary.ts';
import type { Params, Translator } from '../../platform/ui/i18n/index.ts';
import { refusalAnswer } from '../api/v2/refusal-wire.ts';
import type { Refusal, RefusalCode, RefusalOf } from '../sending/refusals.ts';
import { MAX_SCHEDULE_HOURS } from '../sending/send-rules.ts';

/** What the page knows that the words need besides the refusal. */
export interface RefusalSituation {
  /** The template's channel names the channel in the daily-limit words. */
  templateType: TemplateType;
  /** The service's daily limit on that channel, which those words give. */
  dailyLimit: number;
  /** Ends with `/`, for the refusals shown in the API's words (one of them names a settings page). */
  siteRoot: string;
}

export interface RefusalWords {
  key: string;
  params?: Params;
}

type Ui = Pick<Translator, 't' | 'formatNumber'>;
type Wording<C extends RefusalCode> = (refusal: RefusalOf<C>, situation: RefusalSituation, ui: Ui) => RefusalWords;
type AnyWording = (refusal: Refusal, situation: RefusalSituation, ui: Ui) => RefusalWords;

const inApiWords: AnyWording = (refusal, situation) => ({
  key: 'send.error.other',
  params: { message: refusalAnswer(refusal, situation.siteRoot).message },
});

const dailyLimit: AnyWording = (_refusal, situation, ui) => ({
  key: 'send.error.dailyLimit',
  params: { limit: ui.formatNumber(situation.dailyLimit), channel: ui.t(`send.channel.${situation.templateType}`) },
});

const archived = { key: 'send.archived.body' };
const atInvalid = { key: 'send.check.atInvalid', params: { hours: MAX_SCHEDULE_HOURS } };

const WORDS: { [C in RefusalCode]: Wording<C> } = {
  'rate-limit': dailyLimit,
  'daily-limit': dailyLimit,
  'channel-not-allowed': (r, _s, ui) => ({
    key: 'send.error.channelNotAllowed',
    params: { channel: ui.t(`send.channel.${r.channel}`) },
  }),
  'template-not-found': () => ({ key: 'notFound.title' }),
  'template-wrong-type': inApiWords,
  'template-deleted': () => archived,
  'job-template-deleted': () => archived,
  'missing-personalisation': () => ({ key: 'send.error.personalisation' }),
  'unsendable-character': inApiWords,
  'unknown-sender': (r) => ({ key: `send.sender.unknown.${r.channel}` }),
  'invalid-recipient': (r) => ({
    key: r.problem === 'email' ? 'send.error.invalidEmail' : `send.cell.phone.${r.problem}`,
  }),
  'recipient-not-allowed': (r, s, ui) =>
    r.restriction === 'trial-mode' ? { key: 'send.error.trialMode' } : inApiWords(r, s, ui),
  'international-not-allowed': () => ({ key: 'send.cell.international' }),
  'files-not-set-up': inApiWords,
  'file-by-text': inApiWords,
  'empty-message': () => ({ key: 'send.cell.empty' }),
  'too-long': () => ({ key: 'send.error.tooLong' }),
  'scheduled-in-past': () => atInvalid,
  'scheduled-too-far': () => atInvalid,
  'job-not-found': inApiWords,
  'job-not-cancellable': inApiWords,
};

export function refusalWords(refusal: Refusal, situation: RefusalSituation, ui: Ui): RefusalWords {
  // The table's type pairs each code with its own parameters; TypeScript cannot follow that through an index.
  return (WORDS[refusal.code] as AnyWording)(refusal, situation, ui);
}

export function refusalText(refusal: Refusal, situation: RefusalSituation, ui: Ui): string {
  const { key, params } = refusalWords(refusal, situation, ui);
  return ui.t(key, params);
}

/** The part of the send form a refusal is about: the sender chosen, the recipient typed, or neither. */
export function refusalField(refusal: Refusal): 'sender' | 'recipient' | null {
  switch (refusal.code) {
    case 'unknown-sender':
      return 'sender';
    case 'invalid-recipient':
    case 'recipient-not-allowed':
    case 'international-not-allowed':
      return 'recipient';
    case 'daily-limit':
      // The international limit is reached because of where the recipient is.
      return refusal.channel === 'international_sms' ? 'recipient' : null;
    default:
      return null;
  }
}
