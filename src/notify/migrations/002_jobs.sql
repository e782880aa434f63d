-- Bulk sending: a job is an uploaded spreadsheet whose rows become notifications. The file is kept in chunks so that
-- it streams in and out without being held whole, and the job row is also its own queue entry (claim-queue.ts).

-- Rows a service may send in one job (GC Notify's CSV_MAX_ROWS, raised per service up to 1,000,000).
ALTER TABLE services ADD COLUMN max_rows integer NOT NULL DEFAULT 50000 CHECK (max_rows BETWEEN 1 AND 1000000);

CREATE TABLE jobs (
  id uuid PRIMARY KEY,
  service_id uuid NOT NULL REFERENCES services(id) ON DELETE CASCADE,
  template_id uuid NOT NULL,
  template_version integer NOT NULL,
  template_type text NOT NULL CHECK (template_type IN ('email', 'sms')),
  original_file_name text NOT NULL,
  -- How the stored file is read again: csv, tsv or xlsx.
  file_format text NOT NULL,
  notification_count integer NOT NULL,
  job_status text NOT NULL CHECK (job_status IN ('pending', 'scheduled', 'in progress', 'finished', 'cancelled')),
  api_key_id uuid,
  key_type text NOT NULL,
  created_by_id uuid REFERENCES users(id),
  -- The reply-to address or text sender chosen by id, and its value at the time.
  sender_id uuid,
  reply_to_text text,
  client_reference text,
  scheduled_for timestamptz,
  processing_started timestamptz,
  processing_finished timestamptz,
  archived boolean NOT NULL DEFAULT false,
  -- What the job took from the daily limits, per channel, and on which day: given back if it is cancelled that day.
  counted jsonb,
  counted_on date,
  -- Queue columns (claim-queue.ts): due at next_attempt_at, leased until claimed_until.
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  claimed_until timestamptz,
  attempts integer NOT NULL DEFAULT 0,
  file_expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz
);
CREATE INDEX jobs_due ON jobs (next_attempt_at) WHERE job_status IN ('pending', 'scheduled', 'in progress');
CREATE INDEX jobs_service ON jobs (service_id, created_at DESC);
CREATE INDEX jobs_file_expiry ON jobs (file_expires_at) WHERE NOT archived;

-- The uploaded file, in order. No foreign key: chunks are written while the file is still being checked, before
-- the job row exists; chunks of uploads that never became a job are removed by the job loop.
CREATE TABLE job_files (
  job_id uuid NOT NULL,
  seq integer NOT NULL,
  bytes bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job_id, seq)
);

-- A job's rows exist once each: a processor that lost its lease cannot add a second copy.
CREATE UNIQUE INDEX notifications_job_row ON notifications (job_id, job_row_number) WHERE job_id IS NOT NULL;
