-- Back to yes-or-no answers: "maybe" answers go back to pending, waitlisted ones are rejected, and
-- the changes of the new kinds go.
DELETE FROM changes WHERE kind IN ('invitation.tentative', 'invitation.waitlisted', 'member.party_changed');
DELETE FROM changes_staged WHERE kind IN ('invitation.tentative', 'invitation.waitlisted', 'member.party_changed');
ALTER TABLE changes DROP CONSTRAINT changes_kind;
ALTER TABLE changes ADD CONSTRAINT changes_kind CHECK (kind IN (
    'invitation.created', 'invitation.accepted', 'invitation.rejected',
    'invitation.cancelled', 'invitation.expired', 'invitation.resent',
    'member.joined', 'member.removed', 'member.role_changed', 'event.updated', 'event.deleted'));
ALTER TABLE changes_staged DROP CONSTRAINT changes_staged_kind;
ALTER TABLE changes_staged ADD CONSTRAINT changes_staged_kind CHECK (kind IN (
    'invitation.created', 'invitation.accepted', 'invitation.rejected',
    'invitation.cancelled', 'invitation.expired', 'invitation.resent',
    'member.joined', 'member.removed', 'member.role_changed', 'event.updated', 'event.deleted'));

DROP INDEX invitations_waitlist;
DROP INDEX invitations_open_expiry;
DROP INDEX invitations_one_live;
UPDATE invitations SET status = 'pending', answered_at = NULL WHERE status = 'tentative';
UPDATE invitations SET status = 'rejected' WHERE status = 'waitlisted';
UPDATE invitations SET answered_at = NULL WHERE status IN ('cancelled', 'expired');
ALTER TABLE invitations DROP CONSTRAINT invitations_answered_at_iff_answered;
ALTER TABLE invitations ADD CONSTRAINT invitations_answered_at_iff_answered
    CHECK ((status IN ('accepted', 'rejected')) = (answered_at IS NOT NULL));
ALTER TABLE invitations DROP CONSTRAINT invitations_status_check;
ALTER TABLE invitations ADD CONSTRAINT invitations_status_check
    CHECK (status IN ('pending', 'accepted', 'rejected', 'cancelled', 'expired'));
CREATE UNIQUE INDEX invitations_one_pending ON invitations (event_id, invitee_id) WHERE status = 'pending';
CREATE INDEX invitations_pending_expiry ON invitations (expires_at) WHERE status = 'pending';
ALTER TABLE invitations
    DROP CONSTRAINT invitations_comment_length,
    DROP CONSTRAINT invitations_guests,
    DROP COLUMN comment,
    DROP COLUMN guests;

ALTER TABLE event_members DROP CONSTRAINT event_members_guests, DROP COLUMN guests;
ALTER TABLE events
    DROP CONSTRAINT events_rsvp_deadline_by_start,
    DROP CONSTRAINT events_seats_within_capacity,
    DROP CONSTRAINT events_max_guests,
    DROP CONSTRAINT events_capacity,
    DROP COLUMN seats_taken,
    DROP COLUMN rsvp_deadline,
    DROP COLUMN waitlist,
    DROP COLUMN max_guests,
    DROP COLUMN capacity;
