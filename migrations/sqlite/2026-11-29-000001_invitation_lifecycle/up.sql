-- The invitation lifecycle (docs/api.md, "Invitation lifecycle"): a note, expiry, cancelling and
-- resending. Rows written before this migration get expires_at NULL: they never expire
-- (docs/operations.md, "Invitation expiry").
--
-- SQLite cannot alter a CHECK constraint: the table is rebuilt (new table, copy, drop, rename) and
-- its indexes made again. No table refers to invitations, so nothing else changes.
CREATE TABLE invitations_new (
    id             TEXT PRIMARY KEY,
    event_id       TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    sender_id      TEXT NOT NULL REFERENCES users (id),
    invitee_id     TEXT NOT NULL REFERENCES users (id),
    contact        TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected', 'cancelled', 'expired')),
    created_at     TIMESTAMP NOT NULL,
    answered_at    TIMESTAMP,
    message        TEXT,
    expires_at     TIMESTAMP,
    cancelled_at   TIMESTAMP,
    last_resent_at TIMESTAMP,
    -- answered_at is set exactly when answered, cancelled_at exactly when cancelled.
    CONSTRAINT invitations_answered_at_iff_answered CHECK ((status IN ('accepted', 'rejected')) = (answered_at IS NOT NULL)),
    CONSTRAINT invitations_cancelled_at_iff_cancelled CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL)),
    -- The note: trimmed, 1 to 500 characters, or none.
    CONSTRAINT invitations_message_length CHECK (message IS NULL OR length(message) BETWEEN 1 AND 500),
    CONSTRAINT invitations_not_to_self CHECK (sender_id <> invitee_id)
);
INSERT INTO invitations_new (id, event_id, sender_id, invitee_id, contact, status, created_at, answered_at)
    SELECT id, event_id, sender_id, invitee_id, contact, status, created_at, answered_at FROM invitations;
DROP TABLE invitations;
ALTER TABLE invitations_new RENAME TO invitations;

-- R7: at most one pending invitation per (event, invitee).
CREATE UNIQUE INDEX invitations_one_pending ON invitations (event_id, invitee_id) WHERE status = 'pending';
-- Latest invitation of a user to an event (R7, R8); received invitations filtered by event.
CREATE INDEX invitations_event_invitee_id ON invitations (event_id, invitee_id, id);
-- Sent invitations filtered by event; an event's own invitations.
CREATE INDEX invitations_event_id_id ON invitations (event_id, id);
CREATE INDEX invitations_event_status_id ON invitations (event_id, status, id);
-- The two lists, with and without a status filter (keyset pagination on id).
CREATE INDEX invitations_received ON invitations (invitee_id, status, id);
CREATE INDEX invitations_received_all ON invitations (invitee_id, id);
CREATE INDEX invitations_sent ON invitations (sender_id, status, id);
CREATE INDEX invitations_sent_all ON invitations (sender_id, id);
-- The expiry sweeper's batches: pending invitations by expiry time.
CREATE INDEX invitations_pending_expiry ON invitations (expires_at) WHERE status = 'pending';
