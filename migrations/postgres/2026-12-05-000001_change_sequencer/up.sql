-- Writers no longer number their changes (docs/architecture.md, "The change feed's order"): the
-- one sequence row, updated by every changing transaction and locked until its commit, made all
-- writes commit one at a time. A writing transaction now stages its changes here, unnumbered,
-- with the users each one goes to; a sequencer (one at a time, under an advisory lock, in
-- whichever process reads the feed next) moves the committed ones into domain_events with the
-- next ids, in a short transaction of its own. Readers read domain_events only, so an id still
-- never becomes visible after a higher one.
CREATE TABLE domain_events_staged (
    -- Arrival order among staged changes (a transaction's own changes keep theirs); not an id
    -- anybody reads.
    staged_id   BIGSERIAL PRIMARY KEY,
    kind        TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    subject     TEXT NOT NULL,
    -- The recipients' user ids, separated by spaces (resolved at write time, as before).
    recipients  TEXT NOT NULL,
    CONSTRAINT domain_events_staged_kind CHECK (kind IN (
        'invitation.created', 'invitation.accepted', 'invitation.rejected',
        'invitation.cancelled', 'invitation.expired', 'invitation.resent',
        'member.joined', 'member.removed', 'member.role_changed',
        'event.updated', 'event.deleted'))
);
