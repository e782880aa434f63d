-- The API's group commit runs several insert batches at once, and each bumps its service's daily counter in its own
-- transaction: on one counter row each batch waited for the one before it to commit, so they never overlapped.
-- Each batch in flight now adds to a row of its own (its shard); a day's count is the sum of the rows.
ALTER TABLE daily_send_counts ADD COLUMN shard smallint NOT NULL DEFAULT 0;
ALTER TABLE daily_send_counts DROP CONSTRAINT daily_send_counts_pkey;
ALTER TABLE daily_send_counts ADD PRIMARY KEY (service_id, day, channel, shard);
