/**
 * What the web UI's areas are given. Its own module, importing no area and not the app, so that areas can name it
 * without an import cycle through web-ui.ts or app.ts.
 */
import type { AccountMessages } from '../accounts/account-messages.ts';
import type { Accounts } from '../accounts/accounts.ts';
import type { Config } from '../config.ts';
import type { Db, DbHandle } from '../database/connection.ts';
import type { SecretBox } from '../secret-box.ts';
import type { AttemptThrottle } from './throttle.ts';
import type { UiContext } from './context.ts';
import type { Html } from './html.ts';
import type { ServiceContext } from './service-context.ts';

/** What products cache about a service: told when the platform changes a service's team. */
export interface ServiceCache {
  invalidate(serviceId?: string): void;
}

/** A product's part of a service's team page, shown below the team (Notify: its guest list). */
export type TeamPageSection = (db: Db, ui: UiContext, service: ServiceContext) => Promise<Html>;

/** The app's services the platform's pages use; a product's pages get these and its own (`S`). */
export interface AdminServices {
  config: Config;
  database: DbHandle;
  secrets: SecretBox;
  directory: ServiceCache;
}

export interface AdminDeps<S extends AdminServices = AdminServices> {
  services: S;
  accounts: Accounts;
  /** Sends Envoi's own emails and texts (codes, links, invitations) through Envoi. */
  messages: AccountMessages;
  /** Per-IP limit on sign-in, code, sign-up and reset attempts. */
  attempts: AttemptThrottle;
  /** Origin for links in messages and pages: the configured public URL, never the request's Host. */
  siteRoot(): string;
  /** What products add to a service's team page, in order. */
  teamSections: readonly TeamPageSection[];
}
