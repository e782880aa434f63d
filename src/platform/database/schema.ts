/** Kysely's view of the platform's tables in migrations/. Keep in step with the SQL. */
import type { ColumnType, Generated } from 'kysely';
import type { AuthType, UserState } from '../accounts/account.ts';
import type { Permission } from '../services/permissions.ts';

// Insertable without a value where the column has a default.
export type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
export type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
export type Json = ColumnType<unknown, string | null | undefined, string | null>;

/** A service as the platform knows it; each product adds its own columns (see its schema.ts). */
export interface ServicesTable {
  id: string;
  name: string;
  active: Generated<boolean>;
  created_by_id: ColumnType<string | null, string | null | undefined, string | null>;
  suspended_at: NullableTimestamp;
  created_at: Timestamp;
  updated_at: NullableTimestamp;
}

export interface InvitationsTable {
  id: Generated<string>;
  service_id: string;
  email_address: string;
  permissions: ColumnType<Permission[], Permission[], Permission[]>;
  invited_by_id: string | null;
  token_hash: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  accepted_at: NullableTimestamp;
  accepted_by_id: ColumnType<string | null, string | null | undefined, string | null>;
  cancelled_at: NullableTimestamp;
}

export interface UsersTable {
  id: Generated<string>;
  name: string;
  email_address: string;
  mobile_number: string | null;
  created_at: Timestamp;
  password_hash: string | null;
  platform_admin: Generated<boolean>;
  state: ColumnType<UserState, UserState | undefined, UserState>;
  email_confirmed_at: NullableTimestamp;
  failed_login_count: Generated<number>;
  locked_until: NullableTimestamp;
  auth_type: ColumnType<AuthType, AuthType | undefined, AuthType>;
  language: ColumnType<'en' | 'fr', 'en' | 'fr' | undefined, 'en' | 'fr'>;
  password_changed_at: NullableTimestamp;
  last_signed_in_at: NullableTimestamp;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  stage: 'second-factor' | 'signed-in';
  csrf_token: string;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  expires_at: Timestamp;
  ip: string | null;
  user_agent: string | null;
}

export interface LoginCodesTable {
  id: Generated<string>;
  user_id: string;
  method: 'email' | 'sms';
  code_hash: string;
  attempts: Generated<number>;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
}

export interface TotpSecretsTable {
  user_id: string;
  secret_sealed: string;
  confirmed_at: NullableTimestamp;
  last_used_step: ColumnType<number | null, number | null | undefined, number | null>;
  created_at: Timestamp;
}

export interface WebauthnCredentialsTable {
  id: Generated<string>;
  user_id: string;
  credential_id: string;
  public_key: string;
  counter: ColumnType<number, number | undefined, number>;
  transports: ColumnType<string[], string[] | undefined, string[]>;
  name: string;
  created_at: Timestamp;
  last_used_at: NullableTimestamp;
}

export interface AccountTokensTable {
  token_hash: string;
  user_id: string;
  purpose: 'confirm-email' | 'reset-password' | 'set-password';
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
}

export interface AuditEventsTable {
  id: ColumnType<number, never, never>;
  actor_id: string | null;
  user_id: string | null;
  event: string;
  ip: string | null;
  details: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: Timestamp;
}

export interface ServiceUsersTable {
  service_id: string;
  user_id: string;
  permissions: ColumnType<Permission[], Permission[] | undefined, Permission[]>;
  created_at: Timestamp;
}

export interface SchemaMigrationsTable {
  name: string;
  applied_at: Timestamp;
}

/**
 * The platform's tables. A product adds its own by augmenting this interface from its schema.ts, so that one
 * connection type (Db) sees them all while the platform names none of them.
 */
export interface Database {
  services: ServicesTable;
  users: UsersTable;
  service_users: ServiceUsersTable;
  schema_migrations: SchemaMigrationsTable;
  sessions: SessionsTable;
  login_codes: LoginCodesTable;
  totp_secrets: TotpSecretsTable;
  webauthn_credentials: WebauthnCredentialsTable;
  account_tokens: AccountTokensTable;
  audit_events: AuditEventsTable;
  invitations: InvitationsTable;
}
