-- The last API requests of each service (issue 4, §5): when, which key, method, path and status, never a body or
-- a token, so that a team can see its integration working or failing. Written in batches from memory, off the
-- accept path, and bounded per service (about the last thousand), so the table stays small.
CREATE TABLE api_requests (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  service_id uuid NOT NULL REFERENCES services(id) ON DELETE CASCADE,
  api_key_id uuid,
  method text NOT NULL,
  path text NOT NULL,
  status_code integer NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX api_requests_service ON api_requests (service_id, id DESC);
