/** What Notify's pages are given: the platform's UI deps, with Notify's own services. */
import type { Db } from '../../platform/database/connection.ts';
import type { AdminDeps, AdminServices } from '../../platform/ui/admin-deps.ts';
import type { Jobs } from '../jobs/jobs.ts';
import type { SendContext } from '../sending/send-rules.ts';
import type { ServiceDirectory } from '../sending/service-directory.ts';

export interface NotifyAdminServices extends AdminServices {
  directory: ServiceDirectory;
  send: SendContext;
  jobs: Jobs;
  /** For reports that may lag (activity, dashboards, exports): the read replica, else the primary. */
  readDb: Db;
}

export type NotifyAdminDeps = AdminDeps<NotifyAdminServices>;
