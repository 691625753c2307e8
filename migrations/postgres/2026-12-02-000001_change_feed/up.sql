-- The change feed (docs/api.md, "Change feed and live stream"): the outbox of domain events,
-- written in the same transaction as the change they tell of, and who may read each one (R12,
-- resolved when the change was written).
--
-- Ids strictly increase in the order readers can see them (docs/architecture.md, "The change
-- feed's order"): a writing transaction takes its ids from the one row of domain_event_sequence
-- with an UPDATE, as its last step, so it holds that row's lock until it commits; the next writer
-- gets the following ids only after that commit. So a reader that has seen id N never later finds
-- a new id below N (which a sequence, taken at insert and committed in another order, allows), and
-- ids have no gaps: a rolled-back transaction gives its ids back.
CREATE TABLE domain_event_sequence (
    id      SMALLINT PRIMARY KEY,
    last_id BIGINT NOT NULL,
    CONSTRAINT domain_event_sequence_one_row CHECK (id = 1),
    CONSTRAINT domain_event_sequence_last_id CHECK (last_id >= 0)
);
INSERT INTO domain_event_sequence (id, last_id) VALUES (1, 0);

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
-- Retention (EVENT_RETENTION_DAYS) deletes the oldest first.
CREATE INDEX domain_events_occurred_at ON domain_events (occurred_at);

CREATE TABLE domain_event_recipients (
    user_id  TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event_id BIGINT NOT NULL REFERENCES domain_events (id) ON DELETE CASCADE,
    -- A user's feed: WHERE user_id = ? AND event_id > ? ORDER BY event_id.
    CONSTRAINT domain_event_recipients_pkey PRIMARY KEY (user_id, event_id)
);
-- Fan-out reads every recipient of new events; the purge's cascade finds them.
CREATE INDEX domain_event_recipients_event ON domain_event_recipients (event_id);

-- Stream tickets (docs/api.md, "Live stream"): single use, 60 seconds, only their digest stored.
CREATE TABLE stream_tickets (
    ticket_hash BYTEA PRIMARY KEY,
    user_id     TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at  TIMESTAMP NOT NULL,
    CONSTRAINT stream_tickets_hash_sha256 CHECK (octet_length(ticket_hash) = 32)
);
CREATE INDEX stream_tickets_expires_at ON stream_tickets (expires_at);
