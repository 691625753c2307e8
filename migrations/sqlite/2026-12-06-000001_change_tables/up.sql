-- The change feed's tables take the one name the code and the API give what they hold, "changes":
-- domain_events becomes changes, domain_event_sequence change_sequence and
-- domain_event_recipients change_recipients, whose event_id (a change's id, not an event's)
-- becomes change_id. Their constraints and indexes follow.
--
-- SQLite cannot rename a constraint or an index: the tables are made again under the new names
-- and their rows copied, then the old ones dropped, recipients first (nothing else refers to them,
-- so no cascade runs).
CREATE TABLE change_sequence (
    id      INTEGER PRIMARY KEY,
    last_id BIGINT NOT NULL,
    CONSTRAINT change_sequence_one_row CHECK (id = 1),
    CONSTRAINT change_sequence_last_id CHECK (last_id >= 0)
);
INSERT INTO change_sequence (id, last_id) SELECT id, last_id FROM domain_event_sequence;

CREATE TABLE changes (
    id          BIGINT PRIMARY KEY,
    -- invitation.created, ..., event.deleted
    kind        TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    -- What the change is about, as it was then: the adapter's JSON storage form (version 1).
    subject     TEXT NOT NULL,
    CONSTRAINT changes_kind CHECK (kind IN (
        'invitation.created', 'invitation.accepted', 'invitation.rejected',
        'invitation.cancelled', 'invitation.expired', 'invitation.resent',
        'member.joined', 'member.removed', 'member.role_changed',
        'event.updated', 'event.deleted'))
);
INSERT INTO changes (id, kind, occurred_at, subject)
    SELECT id, kind, occurred_at, subject FROM domain_events;
-- Retention (EVENT_RETENTION_DAYS) deletes the oldest first.
CREATE INDEX changes_occurred_at ON changes (occurred_at);

CREATE TABLE change_recipients (
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    change_id BIGINT NOT NULL REFERENCES changes (id) ON DELETE CASCADE,
    -- A user's feed: WHERE user_id = ? AND change_id > ? ORDER BY change_id.
    CONSTRAINT change_recipients_pkey PRIMARY KEY (user_id, change_id)
);
INSERT INTO change_recipients (user_id, change_id)
    SELECT user_id, event_id FROM domain_event_recipients;
-- Fan-out reads every recipient of new changes; the purge's cascade finds them.
CREATE INDEX change_recipients_change ON change_recipients (change_id);

DROP TABLE domain_event_recipients;
DROP TABLE domain_events;
DROP TABLE domain_event_sequence;
