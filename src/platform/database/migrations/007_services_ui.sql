-- Services in the web UI: who created a service, when it went live or was suspended, and invitations to its
-- team. Notify's part of the same step (email sender and branding, logos, requests to go live) is in
-- notify/migrations.

ALTER TABLE services
  ADD COLUMN created_by_id uuid REFERENCES users(id) ON DELETE SET NULL,
  ADD COLUMN go_live_at timestamptz,
  ADD COLUMN suspended_at timestamptz;

-- An invitation to join a service's team. The link's token is stored hashed; it works once, for 2 days.
CREATE TABLE invitations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  service_id uuid NOT NULL REFERENCES services(id) ON DELETE CASCADE,
  email_address text NOT NULL,
  permissions text[] NOT NULL,
  invited_by_id uuid REFERENCES users(id) ON DELETE SET NULL,
  token_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  accepted_at timestamptz,
  accepted_by_id uuid REFERENCES users(id) ON DELETE SET NULL,
  cancelled_at timestamptz
);
CREATE INDEX invitations_service ON invitations (service_id, created_at DESC);
