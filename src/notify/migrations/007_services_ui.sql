-- Notify's settings in the web UI: the email sender's display name and branding (with a logo kept in the
-- database), and requests to go live decided by a platform admin.

ALTER TABLE services
  -- The name in the From header of emails; the service's name when null.
  ADD COLUMN email_sender_name text,
  ADD COLUMN email_branding text NOT NULL DEFAULT 'none' CHECK (email_branding IN ('none', 'gc', 'logo'));

-- The uploaded logo of a service's emails, apart from services so that reading a service never loads it.
CREATE TABLE email_logos (
  service_id uuid PRIMARY KEY REFERENCES services(id) ON DELETE CASCADE,
  content_type text NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg')),
  bytes bytea NOT NULL,
  alt_en text NOT NULL,
  alt_fr text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE go_live_requests (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  service_id uuid NOT NULL REFERENCES services(id) ON DELETE CASCADE,
  requested_by_id uuid REFERENCES users(id) ON DELETE SET NULL,
  main_use text NOT NULL,
  expected_daily_email integer NOT NULL CHECK (expected_daily_email >= 0),
  expected_daily_sms integer NOT NULL CHECK (expected_daily_sms >= 0),
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'declined')),
  decided_by_id uuid REFERENCES users(id) ON DELETE SET NULL,
  decided_at timestamptz,
  decline_reason text,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- One open request per service.
CREATE UNIQUE INDEX go_live_requests_pending ON go_live_requests (service_id) WHERE state = 'pending';
