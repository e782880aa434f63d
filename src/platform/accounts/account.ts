/**
 * An account, its sessions and its security keys as the platform reads them: the values the accounts' logic works
 * with and their repositories return (a file of types only, so that both may import it).
 */
import type { Language } from './account-messages.ts';

export interface Account {
  id: string;
  name: string;
  email: string;
  mobileNumber: string | null;
  platformAdmin: boolean;
  state: 'pending' | 'active' | 'archived';
  authType: AuthType;
  language: Language;
  lockedUntil: Date | null;
  failedLoginCount: number;
  createdAt: Date;
  lastSignedInAt: Date | null;
}

export interface Session {
  /** The hash stored as the row's id. */
  id: string;
  stage: 'second-factor' | 'signed-in';
  csrfToken: string;
  createdAt: Date;
  account: Account;
}

export interface SecurityKey {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export type UserState = 'pending' | 'active' | 'archived';

export type AuthType = 'email' | 'sms' | 'totp' | 'security_key';
