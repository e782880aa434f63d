/** What every platform-admin services route shares: the id of the URL, who is acting, the notices after a change. */
import { isUuid } from '../../../platform/ids.ts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FieldError } from '../../../platform/ui/layout.ts';
import type { UiContext } from '../../../platform/ui/context.ts';
import type { DailyLimitsInput } from '../../settings/daily-limits.ts';

export type Form = Record<string, string | undefined>;

export const DONE = ['limits', 'suspended', 'restored', 'approved', 'declined'] as const;

/** The id of the URL, in lower case, or null when it is not a UUID. */
export const idOf = (raw: string) => (isUuid(raw) ? raw.toLowerCase() : null);

export const actor = (request: FastifyRequest) => ({ actorId: request.ui.account!.id, ip: request.ip });

/** Shows a service's page (or goes back to the list when there is no such service). */
export type ShowService = (
  reply: FastifyReply,
  ui: UiContext,
  serviceId: string,
  v: { limits?: DailyLimitsInput; reason?: string; errors?: FieldError[]; done?: string },
  status?: number,
) => Promise<FastifyReply>;
