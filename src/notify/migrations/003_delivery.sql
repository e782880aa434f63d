-- Delivery at production grade: receipts find notifications by the provider's id, bounces and complaints feed a
-- per-service suppression list, and services get callbacks (a queue of their own, same claim/lease columns).

-- Receipts look notifications up by the id the provider gave the message.
CREATE INDEX notifications_provider_reference ON notifications (provider_reference) WHERE provider_reference IS NOT NULL;

-- Addresses and numbers a service must not send to again: a hard bounce, a complaint, an opt-out, or by hand.
CREATE TABLE suppressions (
  service_id uuid NOT NULL REFERENCES services(id) ON DELETE CASCADE,
  channel text NOT NULL CHECK (channel IN ('email', 'sms')),
  -- The normalised form (notifications.normalised_to), so that a lookup is one equality.
  recipient text NOT NULL,
  reason text NOT NULL CHECK (reason IN ('hard-bounce', 'complaint', 'opted-out', 'manual')),
  notification_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (service_id, channel, recipient)
);

CREATE TABLE complaints (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  service_id uuid NOT NULL REFERENCES services(id) ON DELETE CASCADE,
  notification_id uuid NOT NULL,
  complaint_type text,
  complaint_date timestamptz,
  provider_reference text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX complaints_service ON complaints (service_id, created_at DESC);

-- The Standard Webhooks signing secret (whsec_…), one per service, sealed like API keys.
ALTER TABLE services ADD COLUMN webhook_secret_sealed text;

CREATE TABLE service_callbacks (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  service_id uuid NOT NULL REFERENCES services(id) ON DELETE CASCADE,
  callback_type text NOT NULL CHECK (callback_type IN ('delivery_status', 'inbound_sms', 'complaint')),
  url text NOT NULL,
  bearer_token_sealed text NOT NULL,
  -- Set when the receiver answered 410 Gone (or an operator suspended it); nothing is queued while set.
  disabled_at timestamptz,
  disabled_reason text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz,
  UNIQUE (service_id, callback_type)
);

-- One row per callback to make. The payload is built when it is sent, from the subject row (a notification, a
-- received text or a complaint) and the status snapshot kept here, so one formatter serves the API and callbacks.
CREATE TABLE callback_deliveries (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  service_id uuid NOT NULL REFERENCES services(id) ON DELETE CASCADE,
  callback_type text NOT NULL,
  subject_id uuid NOT NULL,
  -- delivery_status only: the status, its provider response and when it changed, as they were at the change.
  status text,
  provider_response text,
  status_at timestamptz,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed', 'dropped')),
  last_response text,
  -- Queue columns (claim-queue.ts).
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  claimed_until timestamptz,
  attempts integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz
);
CREATE INDEX callback_deliveries_due ON callback_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX callback_deliveries_service ON callback_deliveries (service_id, created_at DESC);
