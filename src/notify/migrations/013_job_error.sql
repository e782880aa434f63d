-- A job whose every attempt failed (JOB_MAX_ATTEMPTS) ends as `error`, GC Notify's JOB_STATUS_ERROR, instead of being
-- claimed again for ever. 002_jobs.sql declared the check inline, so it has PostgreSQL's generated name.
ALTER TABLE jobs DROP CONSTRAINT jobs_job_status_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_job_status_check
  CHECK (job_status IN ('pending', 'scheduled', 'in progress', 'finished', 'cancelled', 'error'));
