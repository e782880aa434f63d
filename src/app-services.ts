/**
 * What every role of Envoi is built from, made once from the config and an open database: the services of the API
 * and the worker (createServices), and the deps the web UI's areas are given (createAdminDeps). The roles that use
 * them are started in roles.ts; app.ts and web-ui.ts assemble the HTTP side from them.
 */
import type { Config } from './platform/config.ts';
import type { Db, DbHandle } from './platform/database/connection.ts';
import { Accounts } from './platform/accounts/accounts.ts';
import { SecretBox } from './platform/secret-box.ts';
import type { Logger } from './platform/queue/background.ts';
import { AttemptThrottle } from './platform/ui/throttle.ts';
import { ServiceDirectory } from './notify/sending/service-directory.ts';
import { DailyLimits, RateLimiter } from './notify/sending/limits.ts';
import { NotificationWriter } from './notify/sending/notification-writer.ts';
import { SystemMessages } from './notify/sending/system-messages.ts';
import { guestListSection } from './notify/admin/guest-list/routes.ts';
import type { SendContext } from './notify/sending/send-rules.ts';
import { Jobs } from './notify/jobs/jobs.ts';
import { createReceiptApplier, type ReceiptApplier } from './notify/delivery/receipts/applier.ts';
import { createSnsVerifier, type SnsVerifier } from './notify/delivery/receipts/sns.ts';
import type { NotifyAdminDeps, NotifyAdminServices } from './notify/admin/admin-deps.ts';

export interface AppServices {
  config: Config;
  database: DbHandle;
  /**
   * Reads that may lag a little (the activity page and its download, dashboards, the platform admins' volumes):
   * DATABASE_READ_URL's replica, else the primary. What a request just wrote is always read from `database`.
   */
  readDb: Db;
  secrets: SecretBox;
  directory: ServiceDirectory;
  send: SendContext;
  jobs: Jobs;
  /** Applies provider receipts in batches; closed with the app. */
  receipts: ReceiptApplier;
  /** Checks SNS signatures on /providers/* (tests swap in one that trusts their own CA). */
  snsVerifier: SnsVerifier;
  /** The API's per-minute limit, shared with the other API replicas through the database while an app runs. */
  rateLimiter: RateLimiter;
}

export function createServices(
  config: Config,
  database: DbHandle,
  secretKey: string,
  logger?: Logger,
  readDatabase?: DbHandle | null,
): AppServices {
  const secrets = new SecretBox(secretKey, config.previousSecretKeys);
  const directory = new ServiceDirectory(database.db, secrets);
  const limits = new DailyLimits(database.db);
  const writer = new NotificationWriter(database.db, limits, {
    maxBatch: 500,
    // Up to three batches at a time, each on its own daily counter shard, so that while one waits on its commit
    // the others are written and the event loop is not left idle waiting on the disk (measured, 64 connections:
    // 1 → 2 → 3 in flight ≈ +7% each time; 4 gave no more, at more database CPU).
    maxInFlight: 3,
  });
  return {
    config,
    database,
    readDb: readDatabase?.db ?? database.db,
    secrets,
    directory,
    send: { directory, limits, writer, emailDomain: config.emailDomain, phoneRegion: config.phoneRegion },
    jobs: new Jobs({
      database,
      directory,
      limits,
      phoneRegion: config.phoneRegion,
      emailDomain: config.emailDomain,
      leaseSeconds: config.jobs.leaseSeconds,
      maxAttempts: config.jobs.maxAttempts,
      logger,
    }),
    receipts: createReceiptApplier(database.db, { logger }),
    snsVerifier: createSnsVerifier(config.snsTopicArns.length > 0 ? { topicArns: config.snsTopicArns } : {}),
    rateLimiter: new RateLimiter({ db: database.db }),
  };
}

/** What the web UI's areas are given; Envoi's own messages (codes, links, invitations) are made ready first. */
export async function createAdminDeps(services: NotifyAdminServices): Promise<NotifyAdminDeps> {
  const { config, database, secrets } = services;
  const accounts = new Accounts(database.db, secrets, { signupDomains: config.signupDomains });
  const messages = new SystemMessages(database.db, secrets, services.send, {
    phoneRegion: config.phoneRegion,
    emailDomain: config.emailDomain,
  });
  await messages.ensure();
  return {
    services,
    accounts,
    messages,
    attempts: new AttemptThrottle(100, 10 * 60_000),
    siteRoot: () => config.publicUrl,
    teamSections: [guestListSection],
  };
}
