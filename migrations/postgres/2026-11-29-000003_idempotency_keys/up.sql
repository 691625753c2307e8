-- Idempotency keys (docs/api.md, "Idempotency"): one row per (caller, key). A request claims its
-- key by inserting an 'in_flight' row (INSERT … ON CONFLICT DO NOTHING: the primary key decides
-- between concurrent requests, in one process or several), runs, and then either completes the row
-- with its answer, kept for replays, or deletes it (a 5xx, 429 or 408 answer), so that a retry runs
-- again. `claim` names the request holding the row: only it may complete or delete it, and a claim
-- whose process died can be taken over once `locked_until` has passed (a conditional UPDATE on
-- `claim`). Rows are forgotten at `expires_at` (24 hours after the first use) and purged in the
-- background (docs/operations.md, "Idempotency key purge").
CREATE TABLE idempotency_keys (
    user_id          TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key              TEXT COLLATE "C" NOT NULL,
    -- SHA-256 of the request's method, path and body bytes.
    fingerprint      BYTEA NOT NULL,
    claim            TEXT COLLATE "C" NOT NULL,
    state            TEXT NOT NULL,
    response_status  INTEGER,
    -- The headers replayed with the answer, one "name: value" per line.
    response_headers TEXT,
    response_body    BYTEA,
    created_at       TIMESTAMP NOT NULL,
    expires_at       TIMESTAMP NOT NULL,
    locked_until     TIMESTAMP,
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (user_id, key),
    -- 1 to 255 visible ASCII characters.
    CONSTRAINT idempotency_keys_key_format CHECK (
        char_length(key) BETWEEN 1 AND 255 AND key !~ '[^!-~]'
    ),
    CONSTRAINT idempotency_keys_fingerprint_sha256 CHECK (octet_length(fingerprint) = 32),
    -- Running under a lease, or completed with an answer; never both, never neither.
    CONSTRAINT idempotency_keys_state CHECK (
        (state = 'in_flight' AND locked_until IS NOT NULL AND response_status IS NULL
            AND response_headers IS NULL AND response_body IS NULL)
        OR (state = 'completed' AND locked_until IS NULL
            AND response_status BETWEEN 100 AND 599
            AND response_headers IS NOT NULL AND response_body IS NOT NULL)
    ),
    CONSTRAINT idempotency_keys_expiry CHECK (expires_at > created_at)
);
-- The purge's batches find expired rows without scanning the table.
CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);
