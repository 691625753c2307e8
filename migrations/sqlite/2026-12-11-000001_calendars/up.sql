-- Calendars (docs/api.md, "Calendars").
-- The time zone an event happens in: an IANA name; every event made before has UTC. Times stay
-- stored in UTC.
ALTER TABLE events ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC'
    CONSTRAINT events_time_zone_length CHECK (length(time_zone) BETWEEN 1 AND 64);

-- Each person's secret calendar feed, `/cal/{token}.ics`: at most one, stored as the SHA-256
-- digest of its token; a new one replaces it.
CREATE TABLE calendar_feeds (
    user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    token_hash BLOB NOT NULL UNIQUE CONSTRAINT calendar_feeds_hash_sha256
        CHECK (length(token_hash) = 32 AND typeof(token_hash) = 'blob'),
    created_at TIMESTAMP NOT NULL
);
