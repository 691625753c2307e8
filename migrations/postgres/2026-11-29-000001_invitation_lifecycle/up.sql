-- The invitation lifecycle (docs/api.md, "Invitation lifecycle"): a note, expiry, cancelling and
-- resending. Rows written before this migration get expires_at NULL: they never expire
-- (docs/operations.md, "Invitation expiry").
ALTER TABLE invitations
    ADD COLUMN message        TEXT,
    ADD COLUMN expires_at     TIMESTAMP,
    ADD COLUMN cancelled_at   TIMESTAMP,
    ADD COLUMN last_resent_at TIMESTAMP;

ALTER TABLE invitations DROP CONSTRAINT invitations_status_check;
ALTER TABLE invitations ADD CONSTRAINT invitations_status_check
    CHECK (status IN ('pending', 'accepted', 'rejected', 'cancelled', 'expired'));
-- answered_at is set exactly when answered, cancelled_at exactly when cancelled.
ALTER TABLE invitations DROP CONSTRAINT invitations_answered_at_iff_answered;
ALTER TABLE invitations ADD CONSTRAINT invitations_answered_at_iff_answered
    CHECK ((status IN ('accepted', 'rejected')) = (answered_at IS NOT NULL));
ALTER TABLE invitations ADD CONSTRAINT invitations_cancelled_at_iff_cancelled
    CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL));
-- The note: trimmed, 1 to 500 characters, or none.
ALTER TABLE invitations ADD CONSTRAINT invitations_message_length
    CHECK (message IS NULL OR length(message) BETWEEN 1 AND 500);

-- The expiry sweeper's batches: pending invitations by expiry time.
CREATE INDEX invitations_pending_expiry ON invitations (expires_at) WHERE status = 'pending';
-- An event's own invitations, with and without a status filter (invitations_event_id_id).
CREATE INDEX invitations_event_status_id ON invitations (event_id, status, id);
