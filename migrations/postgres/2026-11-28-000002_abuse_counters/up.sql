-- The abuse limits' counters, shared by every process on this database (docs/operations.md,
-- "Abuse limits and the client address"): one row per counted event (a failed login, a
-- registration, a send) under its counter's key, stamped by the database's clock so that every
-- process agrees on the window. Rows older than the window are purged in the background.
-- PostgreSQL only: on SQLite (one process) the counters live in the process's memory.
CREATE TABLE abuse_events (
    id  BIGSERIAL PRIMARY KEY,
    key TEXT COLLATE "C" NOT NULL,
    at  TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);
-- A counter's events inside the window, newest first.
CREATE INDEX abuse_events_key_at ON abuse_events (key, at);
