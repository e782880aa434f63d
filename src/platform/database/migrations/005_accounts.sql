-- Accounts for the web UI: passwords, two-step verification, server-side sessions, single-use tokens and an audit
-- log of security events. Every secret a user could replay (session cookies, codes, links) is stored hashed;
-- authenticator app secrets are sealed with the SecretBox.

ALTER TABLE users
  ADD COLUMN password_hash text,
  ADD COLUMN platform_admin boolean NOT NULL DEFAULT false,
  -- pending: signed up, email not yet confirmed; active: may sign in; archived: removed by a platform admin.
  ADD COLUMN state text NOT NULL DEFAULT 'active' CHECK (state IN ('pending', 'active', 'archived')),
  ADD COLUMN email_confirmed_at timestamptz,
  ADD COLUMN failed_login_count integer NOT NULL DEFAULT 0,
  ADD COLUMN locked_until timestamptz,
  ADD COLUMN auth_type text NOT NULL DEFAULT 'email' CHECK (auth_type IN ('email', 'sms', 'totp', 'security_key')),
  ADD COLUMN language text NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'fr')),
  ADD COLUMN password_changed_at timestamptz,
  ADD COLUMN last_signed_in_at timestamptz;

-- Email addresses compare without case: one account per mailbox.
CREATE UNIQUE INDEX users_email_lower ON users (lower(email_address));

CREATE TABLE sessions (
  -- SHA-256 of the cookie's token: a copy of this table lets no one sign in.
  id text PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  -- second-factor: password checked, code not yet; signed-in: both.
  stage text NOT NULL CHECK (stage IN ('second-factor', 'signed-in')),
  csrf_token text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  ip text,
  user_agent text
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE login_codes (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  method text NOT NULL CHECK (method IN ('email', 'sms')),
  code_hash text NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX login_codes_user ON login_codes (user_id, created_at DESC);

CREATE TABLE totp_secrets (
  user_id uuid PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  secret_sealed text NOT NULL,
  -- Null while being set up: the secret counts only once the user has entered a code from the app.
  confirmed_at timestamptz,
  -- The last time step accepted, so that one code cannot be used twice.
  last_used_step bigint,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webauthn_credentials (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  credential_id text NOT NULL UNIQUE,
  public_key text NOT NULL,
  counter bigint NOT NULL DEFAULT 0,
  transports text[] NOT NULL DEFAULT ARRAY[]::text[],
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz
);
CREATE INDEX webauthn_credentials_user ON webauthn_credentials (user_id);

-- Links sent by email: confirm an address, reset or set a password. Single use, expiring, stored hashed.
CREATE TABLE account_tokens (
  token_hash text PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  purpose text NOT NULL CHECK (purpose IN ('confirm-email', 'reset-password', 'set-password')),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX account_tokens_user ON account_tokens (user_id);

CREATE TABLE audit_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- Who did it (null: someone not signed in), and whom it was about.
  actor_id uuid REFERENCES users(id) ON DELETE SET NULL,
  user_id uuid REFERENCES users(id) ON DELETE SET NULL,
  event text NOT NULL,
  ip text,
  details jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_events_created ON audit_events (created_at DESC, id DESC);
CREATE INDEX audit_events_user ON audit_events (user_id, created_at DESC);
CREATE INDEX audit_events_event ON audit_events (event, created_at DESC);
