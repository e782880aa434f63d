-- The API rate limit is a token bucket in each API process, so N replicas would each allow the whole limit. Each
-- replica adds the tokens it took to these counters about once a second and takes from its own buckets what the
-- others added since it last read them. The counts only grow: the difference of two readings is what was taken
-- between them, whatever the replicas' clocks say.
CREATE TABLE api_rate_counters (
  service_id uuid NOT NULL REFERENCES services(id) ON DELETE CASCADE,
  key_type text NOT NULL CHECK (key_type IN ('normal', 'team', 'test')),
  taken bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (service_id, key_type)
);
