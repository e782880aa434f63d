-- What each team member may do in a service (the web UI checks it on every service page). Members added before
-- the UI (bootstrap files) keep every permission.
ALTER TABLE service_users
  ADD COLUMN permissions text[] NOT NULL
    DEFAULT ARRAY['send_messages', 'manage_templates', 'manage_service', 'manage_api_keys', 'view_activity']::text[],
  ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
