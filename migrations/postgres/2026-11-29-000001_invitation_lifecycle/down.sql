-- The statuses cancelled and expired do not exist before this migration: such rows are deleted.
DROP INDEX invitations_event_status_id;
DROP INDEX invitations_pending_expiry;
DELETE FROM invitations WHERE status IN ('cancelled', 'expired');
ALTER TABLE invitations DROP CONSTRAINT invitations_message_length;
ALTER TABLE invitations DROP CONSTRAINT invitations_cancelled_at_iff_cancelled;
ALTER TABLE invitations DROP CONSTRAINT invitations_answered_at_iff_answered;
ALTER TABLE invitations ADD CONSTRAINT invitations_answered_at_iff_answered
    CHECK ((status = 'pending') = (answered_at IS NULL));
ALTER TABLE invitations DROP CONSTRAINT invitations_status_check;
ALTER TABLE invitations ADD CONSTRAINT invitations_status_check
    CHECK (status IN ('pending', 'accepted', 'rejected'));
ALTER TABLE invitations
    DROP COLUMN last_resent_at,
    DROP COLUMN cancelled_at,
    DROP COLUMN expires_at,
    DROP COLUMN message;
