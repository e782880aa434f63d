-- The web UI's templates and sending: folders that group a service's templates, and spreadsheets uploaded for
-- sending that wait, checked, for the person to send or schedule them.

CREATE TABLE template_folders (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  service_id uuid NOT NULL REFERENCES services(id) ON DELETE CASCADE,
  -- NULL for a folder at the top level; a folder's subfolders go with it.
  parent_id uuid REFERENCES template_folders(id) ON DELETE CASCADE,
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX template_folders_service ON template_folders (service_id, parent_id);

-- NULL: at the top level. A deleted folder's templates move back there.
ALTER TABLE templates ADD COLUMN folder_id uuid REFERENCES template_folders(id) ON DELETE SET NULL;

-- An uploaded list between its check and "send now" or "schedule" (the job engine then stores it as a job).
-- Kept a day at most.
CREATE TABLE send_uploads (
  id uuid PRIMARY KEY,
  service_id uuid NOT NULL REFERENCES services(id) ON DELETE CASCADE,
  template_id uuid NOT NULL REFERENCES templates(id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  file_name text NOT NULL,
  file_format text NOT NULL CHECK (file_format IN ('csv', 'tsv', 'xlsx')),
  bytes bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX send_uploads_created ON send_uploads (created_at);
