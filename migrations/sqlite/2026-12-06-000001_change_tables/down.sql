-- The tables as they were before up.sql, made again the same way, with their rows.
CREATE TABLE domain_event_sequence (
    id      INTEGER PRIMARY KEY,
    last_id BIGINT NOT NULL,
    CONSTRAINT domain_event_sequence_one_row CHECK (id = 1),
    CONSTRAINT domain_event_sequence_last_id CHECK (last_id >= 0)
);
INSERT INTO domain_event_sequence (id, last_id) SELECT id, last_id FROM change_sequence;

CREATE TABLE domain_events (
    id          BIGINT PRIMARY KEY,
    -- invitation.created, ..., event.deleted
    kind        TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    -- What the change is about, as it was then: the adapter's JSON storage form (version 1).
    subject     TEXT NOT NULL,
    CONSTRAINT domain_events_kind CHECK (kind IN (
        'invitation.created', 'invitation.accepted', 'invitation.rejected',
        'invitation.cancelled', 'invitation.expired', 'invitation.resent',
        'member.joined', 'member.removed', 'member.role_changed',
        'event.updated', 'event.deleted'))
);
INSERT INTO domain_events (id, kind, occurred_at, subject)
    SELECT id, kind, occurred_at, subject FROM changes;
-- Retention (EVENT_RETENTION_DAYS) deletes the oldest first.
CREATE INDEX domain_events_occurred_at ON domain_events (occurred_at);

CREATE TABLE domain_event_recipients (
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event_id BIGINT NOT NULL REFERENCES domain_events (id) ON DELETE CASCADE,
    -- A user's feed: WHERE user_id = ? AND event_id > ? ORDER BY event_id.
    CONSTRAINT domain_event_recipients_pkey PRIMARY KEY (user_id, event_id)
);
INSERT INTO domain_event_recipients (user_id, event_id)
    SELECT user_id, change_id FROM change_recipients;
-- Fan-out reads every recipient of new events; the purge's cascade finds them.
CREATE INDEX domain_event_recipients_event ON domain_event_recipients (event_id);

DROP TABLE change_recipients;
DROP TABLE changes;
DROP TABLE change_sequence;
