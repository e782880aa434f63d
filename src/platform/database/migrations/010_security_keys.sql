-- Security keys (WebAuthn): the challenge of each ceremony in progress, so that the signed answer of a key can be
-- checked against it. A challenge belongs to one session and one person, is used once (deleted when checked) and
-- expires after a few minutes; it goes with its session. The keys themselves are in webauthn_credentials (005).
CREATE TABLE webauthn_challenges (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  session_id text NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  -- register: adding a key (key_name is the name given to it); sign-in: the second step of signing in.
  purpose text NOT NULL CHECK (purpose IN ('register', 'sign-in')),
  challenge text NOT NULL,
  key_name text,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX webauthn_challenges_session ON webauthn_challenges (session_id);
CREATE INDEX webauthn_challenges_expires ON webauthn_challenges (expires_at);
