-- Notify's foundation schema: what a service sends with (guest list, reply-to addresses, text message senders),
-- templates with history, API keys, notifications (each row is also its own delivery job), inbound texts, daily
-- counters and the sink outbox. The services table itself is the platform's (platform/database/migrations).

-- What a service may send and how much, its sender and inbound number, and how long its messages are kept.
ALTER TABLE services
  ADD COLUMN permissions text[] NOT NULL DEFAULT ARRAY['email', 'sms']::text[],
  ADD COLUMN email_message_limit integer NOT NULL DEFAULT 50,
  ADD COLUMN sms_message_limit integer NOT NULL DEFAULT 50,
  ADD COLUMN international_sms_message_limit integer NOT NULL DEFAULT 50,
  ADD COLUMN rate_limit integer NOT NULL DEFAULT 1000,
  ADD COLUMN email_sender_local_part text NOT NULL,
  ADD COLUMN inbound_number text UNIQUE,
  ADD COLUMN data_retention_days integer NOT NULL DEFAULT 7;

CREATE TABLE guest_list (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  service_id uuid NOT NULL REFERENCES services(id) ON DELETE CASCADE,
  recipient_type text NOT NULL CHECK (recipient_type IN ('email', 'sms')),
  recipient text NOT NULL,
  UNIQUE (service_id, recipient_type, recipient)
);

CREATE TABLE email_reply_to (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  service_id uuid NOT NULL REFERENCES services(id) ON DELETE CASCADE,
  email_address text NOT NULL,
  is_default boolean NOT NULL DEFAULT false,
  archived boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (service_id, email_address)
);

CREATE TABLE sms_senders (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  service_id uuid NOT NULL REFERENCES services(id) ON DELETE CASCADE,
  sms_sender text NOT NULL,
  is_default boolean NOT NULL DEFAULT false,
  archived boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (service_id, sms_sender)
);

CREATE TABLE templates (
  id uuid PRIMARY KEY,
  service_id uuid NOT NULL REFERENCES services(id) ON DELETE CASCADE,
  -- The name a bootstrap file gives the template, so that re-running the file updates it in place.
  key text,
  name text NOT NULL,
  type text NOT NULL CHECK (type IN ('email', 'sms')),
  subject text,
  content text NOT NULL,
  category text NOT NULL DEFAULT 'normal' CHECK (category IN ('high', 'normal', 'bulk')),
  version integer NOT NULL DEFAULT 1,
  archived boolean NOT NULL DEFAULT false,
  hidden boolean NOT NULL DEFAULT false,
  created_by_id uuid REFERENCES users(id),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz,
  UNIQUE (service_id, key)
);

CREATE TABLE template_history (
  id uuid NOT NULL REFERENCES templates(id) ON DELETE CASCADE,
  version integer NOT NULL,
  service_id uuid NOT NULL,
  name text NOT NULL,
  type text NOT NULL,
  subject text,
  content text NOT NULL,
  category text NOT NULL,
  created_by_id uuid REFERENCES users(id),
  created_at timestamptz NOT NULL,
  updated_at timestamptz,
  PRIMARY KEY (id, version)
);

CREATE TABLE api_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  service_id uuid NOT NULL REFERENCES services(id) ON DELETE CASCADE,
  name text NOT NULL,
  key_type text NOT NULL CHECK (key_type IN ('normal', 'team', 'test')),
  -- The secret sealed with AES-256-GCM, and a keyed digest of it for ApiKey-v1 look-ups.
  secret_sealed text NOT NULL,
  secret_digest text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expiry_date timestamptz,
  UNIQUE (service_id, name)
);

CREATE TABLE notifications (
  id uuid PRIMARY KEY,
  service_id uuid NOT NULL REFERENCES services(id) ON DELETE CASCADE,
  template_id uuid NOT NULL,
  template_version integer NOT NULL,
  api_key_id uuid,
  key_type text NOT NULL,
  notification_type text NOT NULL CHECK (notification_type IN ('email', 'sms')),
  -- The recipient exactly as the client sent it, and the form the provider is given.
  "to" text NOT NULL,
  normalised_to text NOT NULL,
  personalisation jsonb,
  client_reference text,
  subject text,
  body text NOT NULL,
  reply_to_text text,
  one_click_unsubscribe_url text,
  billable_units integer NOT NULL DEFAULT 0,
  status text NOT NULL DEFAULT 'created',
  -- Delivery job columns: lane (0 high, 1 normal, 2 bulk), earliest send time, lease and retry bookkeeping.
  priority smallint NOT NULL DEFAULT 1,
  scheduled_for timestamptz,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  claimed_until timestamptz,
  attempts integer NOT NULL DEFAULT 0,
  provider text,
  provider_reference text,
  provider_response text,
  created_by_id uuid,
  job_id uuid,
  job_row_number integer,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz,
  updated_at timestamptz
);

-- The claim query reads only rows still waiting, by lane and due time.
CREATE INDEX notifications_due ON notifications (priority, next_attempt_at) WHERE status = 'created';
-- GET /v2/notifications: a service's own rows of one key type, newest first.
CREATE INDEX notifications_service_listing ON notifications (service_id, key_type, created_at DESC, id);
CREATE INDEX notifications_client_reference ON notifications (service_id, client_reference) WHERE client_reference IS NOT NULL;

CREATE TABLE received_texts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  service_id uuid NOT NULL REFERENCES services(id) ON DELETE CASCADE,
  notify_number text NOT NULL,
  user_number text NOT NULL,
  content text NOT NULL,
  provider_date timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX received_texts_service ON received_texts (service_id, created_at DESC, id);

-- Messages sent today per service and channel, so daily limits are checked without counting notifications.
CREATE TABLE daily_send_counts (
  service_id uuid NOT NULL REFERENCES services(id) ON DELETE CASCADE,
  day date NOT NULL,
  channel text NOT NULL,
  sent integer NOT NULL DEFAULT 0,
  PRIMARY KEY (service_id, day, channel)
);

-- What the sink providers "sent": the rendered message, for a person to read (envoi outbox).
CREATE TABLE outbox (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  notification_id uuid NOT NULL,
  service_id uuid NOT NULL,
  channel text NOT NULL,
  recipient text NOT NULL,
  sender text,
  subject text,
  body text NOT NULL,
  html text,
  headers jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_notification ON outbox (notification_id);
