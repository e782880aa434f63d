/** What each service sent lately, for the platform admins' list of services. */
import type { Db } from '../../platform/database/connection.ts';
import { listServices } from '../../platform/repositories/services.ts';
import type { ServiceSummary } from '../../platform/services/services.ts';
import { addDays } from '../../platform/utc-days.ts';
import { notificationStatistics } from '../reporting/statistics.ts';
import { utcDay } from '../sending/limits.ts';
import { pendingGoLiveRequests } from './go-live.ts';

export interface ServiceVolumes extends ServiceSummary {
  /** Messages of the last 7 UTC days (today included), test keys left out. */
  email: number;
  sms: number;
  goLiveRequested: boolean;
}

/** Every service with what it sent in the last 7 days, by name. */
export async function allServicesWithVolumes(db: Db, now = new Date()): Promise<ServiceVolumes[]> {
  const services = await listServices(db);
  const pending = new Set((await pendingGoLiveRequests(db)).map((r) => r.serviceId));
  const to = utcDay(now);
  const from = addDays(to, -6);
  const result: ServiceVolumes[] = [];
  for (const s of services) {
    const figures = await notificationStatistics(db, { serviceId: s.id, from, to });
    const sum = (type: string) =>
      figures.filter((f) => f.notificationType === type && f.keyType !== 'test').reduce((n, f) => n + f.count, 0);
    result.push({ ...s, email: sum('email'), sms: sum('sms'), goLiveRequested: pending.has(s.id) });
  }
  return result;
}
