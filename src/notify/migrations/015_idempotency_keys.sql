-- Sends that are safe to retry: the Idempotency-Key a client gave with a send, written in the same statement as the
-- notification it created, with the answer to give again to the same request. Scoped to the service; kept 24 hours.
CREATE TABLE idempotency_keys (
  service_id uuid NOT NULL REFERENCES services (id) ON DELETE CASCADE,
  key text NOT NULL,
  request_hash text NOT NULL,
  response jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (service_id, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
