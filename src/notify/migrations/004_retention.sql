-- Retention and aggregates (issue 3, §6). Notifications become a table partitioned by day (UTC) on created_at, so
-- that forgetting a day that every service's retention has passed is a DROP TABLE of its partition, not a DELETE of
-- millions of rows. The same schema serves PGlite: it runs declarative partitioning, and one schema means one set of
-- migrations and queries. What a day held is first rolled up into notification_stats_daily, kept for good.

-- A service keeps its notifications 3 to 90 days (GC Notify's bounds); out-of-range values are brought inside first.
UPDATE services SET data_retention_days = least(90, greatest(3, data_retention_days))
WHERE data_retention_days NOT BETWEEN 3 AND 90;
ALTER TABLE services ADD CONSTRAINT services_data_retention_days CHECK (data_retention_days BETWEEN 3 AND 90);

-- The new table has the same columns in the same order (LIKE), so rows move over with SELECT *.
CREATE TABLE notifications_by_day (LIKE notifications INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
  PARTITION BY RANGE (created_at);

-- Anything without a day partition of its own (the scheduler fell behind, a clock far off) lands here: an insert
-- never fails for want of a partition. The scheduler moves such rows into their day when it creates it.
CREATE TABLE notifications_default PARTITION OF notifications_by_day DEFAULT;

-- One partition per day that holds rows (at most the longest retention back: older rows are the scheduler's to
-- delete from the default partition), through today and three days ahead.
DO $$
DECLARE
  today date := (now() AT TIME ZONE 'UTC')::date;
  first_day date := greatest(
    coalesce((SELECT (min(created_at) AT TIME ZONE 'UTC')::date FROM notifications), today),
    today - 91);
  d date;
BEGIN
  d := least(first_day, today);
  WHILE d <= today + 3 LOOP
    EXECUTE format(
      'CREATE TABLE %I PARTITION OF notifications_by_day FOR VALUES FROM (%L) TO (%L)',
      'notifications_p' || to_char(d, 'YYYYMMDD'),
      d::text || ' 00:00:00+00',
      (d + 1)::text || ' 00:00:00+00');
    d := d + 1;
  END LOOP;
END
$$;

INSERT INTO notifications_by_day SELECT * FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_by_day RENAME TO notifications;

-- A unique key on a partitioned table must hold the partition key. Ids are random or time-ordered UUIDs, unique by
-- construction; look-ups by id alone still use this index (its first column) in each partition.
ALTER TABLE notifications ADD CONSTRAINT notifications_pkey PRIMARY KEY (id, created_at);
ALTER TABLE notifications ADD CONSTRAINT notifications_service_id_fkey
  FOREIGN KEY (service_id) REFERENCES services(id) ON DELETE CASCADE;

-- The indexes of 001–003, defined on the parent so that every partition, present and future, gets them.
CREATE INDEX notifications_due ON notifications (priority, next_attempt_at) WHERE status = 'created';
CREATE INDEX notifications_service_listing ON notifications (service_id, key_type, created_at DESC, id);
CREATE INDEX notifications_client_reference ON notifications (service_id, client_reference) WHERE client_reference IS NOT NULL;
CREATE INDEX notifications_provider_reference ON notifications (provider_reference) WHERE provider_reference IS NOT NULL;
-- A job's rows exist once each. Every row of a job carries the same created_at (the job's processing_started, set
-- once by its first processor and kept by any later one, see jobs.ts), so with the partition key added the index
-- still allows one row per (job, row number): two processors would write the same created_at and collide here.
CREATE UNIQUE INDEX notifications_job_row ON notifications (job_id, job_row_number, created_at) WHERE job_id IS NOT NULL;
-- The scheduler's timeout sweep: messages handed to a provider and still without an outcome.
CREATE INDEX notifications_in_flight ON notifications (sent_at) WHERE status IN ('sending', 'pending');

-- What each service sent per day, template, channel, status and key type, kept for good: statistics read it for
-- days whose rows are gone. Days are UTC days of created_at, the partitions' days.
CREATE TABLE notification_stats_daily (
  service_id uuid NOT NULL REFERENCES services(id) ON DELETE CASCADE,
  day date NOT NULL,
  template_id uuid NOT NULL,
  notification_type text NOT NULL,
  status text NOT NULL,
  key_type text NOT NULL,
  notification_count integer NOT NULL,
  billable_units integer NOT NULL,
  PRIMARY KEY (service_id, day, template_id, notification_type, status, key_type)
);

-- A service's day once rolled up: its figures are in notification_stats_daily and final (never recomputed, since its
-- rows may be partly deleted), and statistics stop counting its live rows. purged_at: its rows are all gone.
CREATE TABLE notification_rollups (
  service_id uuid NOT NULL REFERENCES services(id) ON DELETE CASCADE,
  day date NOT NULL,
  rolled_up_at timestamptz NOT NULL DEFAULT now(),
  purged_at timestamptz,
  PRIMARY KEY (service_id, day)
);

-- Retention deletes a service's old sink outbox rows (they hold the rendered message) by service and age.
CREATE INDEX outbox_service_created ON outbox (service_id, created_at);
