-- The platform's foundation: services (each a team's workspace, whatever products it uses), the people who use
-- Envoi, and who belongs to which service. Notify's part of the same first schema is in notify/migrations.

CREATE TABLE services (
  id uuid PRIMARY KEY,
  name text NOT NULL UNIQUE,
  active boolean NOT NULL DEFAULT true,
  restricted boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz
);

CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  email_address text NOT NULL UNIQUE,
  mobile_number text,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE service_users (
  service_id uuid NOT NULL REFERENCES services(id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  PRIMARY KEY (service_id, user_id)
);
