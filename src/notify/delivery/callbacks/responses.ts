/**
 * How the callback sender reads a receiver's answer (Notify's rules, service_callback_tasks.py) and what it keeps of
 * it in last_response.
 */
import type { CallbackType } from '../../vocabulary.ts';
import type { OutboundResult } from './outbound-http.ts';

/** A receiver's Retry-After is honoured up to this: a larger one would outlast the whole retry schedule. */
export const LONGEST_RETRY_AFTER_MS = 60 * 60 * 1000;
/** Enough of an answer or an error to tell an operator what happened. */
const LAST_RESPONSE_CHARS = 300;

export type Judgement = 'delivered' | 'retry' | 'gone' | 'refused';

/** Retry on no answer, 429 and 5xx; other answers are final. */
export function judge(result: OutboundResult): Judgement {
  if (result.kind === 'blocked') return 'refused';
  if (result.kind === 'error') return 'retry';
  if (result.status >= 200 && result.status < 300) return 'delivered';
  if (result.status === 410) return 'gone';
  if (result.status === 429 || result.status >= 500) return 'retry';
  return 'refused';
}

/** What goes in last_response: the status and the first bytes of the answer, or why there was none. */
export function describe(result: OutboundResult): string {
  if (result.kind === 'blocked') return `blocked: ${result.reason}`;
  if (result.kind === 'error') return `no answer: ${result.reason}`;
  const redirect =
    result.status >= 300 && result.status < 400
      ? ` redirect not followed${result.location ? ` (to ${result.location})` : ''}`
      : '';
  const body = result.body.replace(/\s+/g, ' ').trim();
  return `${result.status}${redirect}${body ? ` ${body}` : ''}`;
}

export function short(text: string): string {
  return text.length > LAST_RESPONSE_CHARS ? `${text.slice(0, LAST_RESPONSE_CHARS - 1)}…` : text;
}

export function subjectName(type: CallbackType): string {
  return type === 'delivery_status' ? 'notification' : type === 'inbound_sms' ? 'received text message' : 'complaint';
}
