-- RSVP (docs/api.md, "Answering: maybe, guests and comments" and "Capacity and the waitlist"):
-- "maybe" (tentative) and waitlisted answers, parties of guests, comments, capacity and an RSVP
-- deadline. Existing events stay unlimited and take no guests; their seats are counted now.

-- An event's RSVP settings, and its seats: every member but the owner, plus their guests, kept in
-- seats_taken by each write that seats or unseats a party (under the event row's lock), and never
-- above capacity (events_seats_within_capacity: the invariant the database itself keeps).
ALTER TABLE events
    ADD COLUMN capacity      INTEGER,
    ADD COLUMN max_guests    INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN waitlist      BOOLEAN NOT NULL DEFAULT true,
    ADD COLUMN rsvp_deadline timestamptz,
    ADD COLUMN seats_taken   INTEGER NOT NULL DEFAULT 0,
    ADD CONSTRAINT events_capacity CHECK (capacity BETWEEN 1 AND 100000),
    ADD CONSTRAINT events_max_guests CHECK (max_guests BETWEEN 0 AND 10),
    ADD CONSTRAINT events_seats_within_capacity
        CHECK (seats_taken >= 0 AND (capacity IS NULL OR seats_taken <= capacity)),
    ADD CONSTRAINT events_rsvp_deadline_by_start
        CHECK (rsvp_deadline IS NULL OR starts_at IS NULL OR rsvp_deadline <= starts_at);

ALTER TABLE event_members
    ADD COLUMN guests INTEGER NOT NULL DEFAULT 0,
    ADD CONSTRAINT event_members_guests CHECK (guests BETWEEN 0 AND 10);

UPDATE events SET seats_taken = (
    SELECT count(*) FROM event_members m WHERE m.event_id = events.id AND m.role <> 'owner');

-- Answers carry a party and a comment; "tentative" and "waitlisted" are answers too (answered_at
-- is when), and both, with "pending", are the one live invitation an invitee may hold (R7).
ALTER TABLE invitations
    ADD COLUMN guests  INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN comment TEXT,
    ADD CONSTRAINT invitations_guests CHECK (guests BETWEEN 0 AND 10),
    ADD CONSTRAINT invitations_comment_length
        CHECK (comment IS NULL OR length(comment) BETWEEN 1 AND 500);
ALTER TABLE invitations DROP CONSTRAINT invitations_status_check;
ALTER TABLE invitations ADD CONSTRAINT invitations_status_check CHECK (status IN (
    'pending', 'tentative', 'accepted', 'waitlisted', 'rejected', 'cancelled', 'expired'));
ALTER TABLE invitations DROP CONSTRAINT invitations_answered_at_iff_answered;
-- answered_at: none while pending, set by every answer, kept when a "maybe" or a waitlisted
-- answer is later cancelled or expires.
ALTER TABLE invitations ADD CONSTRAINT invitations_answered_at_iff_answered CHECK (
    (status = 'pending' AND answered_at IS NULL)
        OR (status IN ('tentative', 'accepted', 'waitlisted', 'rejected') AND answered_at IS NOT NULL)
        OR status IN ('cancelled', 'expired'));

DROP INDEX invitations_one_pending;
CREATE UNIQUE INDEX invitations_one_live ON invitations (event_id, invitee_id)
    WHERE status IN ('pending', 'tentative', 'waitlisted');
-- The expiry sweeper's batches: unanswered and "maybe" invitations by expiry time.
DROP INDEX invitations_pending_expiry;
CREATE INDEX invitations_open_expiry ON invitations (expires_at)
    WHERE status IN ('pending', 'tentative');
-- An event's waitlist, first come first served.
CREATE INDEX invitations_waitlist ON invitations (event_id, answered_at, id)
    WHERE status = 'waitlisted';

ALTER TABLE changes DROP CONSTRAINT changes_kind;
ALTER TABLE changes ADD CONSTRAINT changes_kind CHECK (kind IN (
    'invitation.created', 'invitation.accepted', 'invitation.tentative', 'invitation.waitlisted',
    'invitation.rejected', 'invitation.cancelled', 'invitation.expired', 'invitation.resent',
    'member.joined', 'member.removed', 'member.role_changed', 'member.party_changed', 'event.updated', 'event.deleted'));
ALTER TABLE changes_staged DROP CONSTRAINT changes_staged_kind;
ALTER TABLE changes_staged ADD CONSTRAINT changes_staged_kind CHECK (kind IN (
    'invitation.created', 'invitation.accepted', 'invitation.tentative', 'invitation.waitlisted',
    'invitation.rejected', 'invitation.cancelled', 'invitation.expired', 'invitation.resent',
    'member.joined', 'member.removed', 'member.role_changed', 'member.party_changed', 'event.updated', 'event.deleted'));
