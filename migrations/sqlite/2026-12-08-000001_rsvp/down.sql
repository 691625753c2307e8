-- Back to yes-or-no answers: "maybe" answers go back to pending, waitlisted ones are rejected, and
-- the changes of the new kinds go. The tables are rebuilt as the up migration did, the other way.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

DELETE FROM change_recipients WHERE change_id IN (
    SELECT id FROM changes WHERE kind IN ('invitation.tentative', 'invitation.waitlisted', 'member.party_changed'));
CREATE TABLE changes_old (
    id          BIGINT PRIMARY KEY,
    kind        TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    subject     TEXT NOT NULL,
    CONSTRAINT changes_kind CHECK (kind IN (
        'invitation.created', 'invitation.accepted', 'invitation.rejected',
        'invitation.cancelled', 'invitation.expired', 'invitation.resent',
        'member.joined', 'member.removed', 'member.role_changed',
        'event.updated', 'event.deleted'))
);
INSERT INTO changes_old (id, kind, occurred_at, subject)
    SELECT id, kind, occurred_at, subject FROM changes
    WHERE kind NOT IN ('invitation.tentative', 'invitation.waitlisted', 'member.party_changed');
DROP TABLE changes;
ALTER TABLE changes_old RENAME TO changes;
CREATE INDEX changes_occurred_at ON changes (occurred_at);

CREATE TABLE invitations_old (
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
    version        BIGINT NOT NULL DEFAULT 1,
    held_contact   TEXT,
    CONSTRAINT invitations_answered_at_iff_answered CHECK ((status IN ('accepted', 'rejected')) = (answered_at IS NOT NULL)),
    CONSTRAINT invitations_cancelled_at_iff_cancelled CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL)),
    CONSTRAINT invitations_message_length CHECK (message IS NULL OR length(message) BETWEEN 1 AND 500),
    CONSTRAINT invitations_not_to_self CHECK (sender_id <> invitee_id)
);
INSERT INTO invitations_old (id, event_id, sender_id, invitee_id, contact, status, created_at,
                             answered_at, message, expires_at, cancelled_at, last_resent_at,
                             version, held_contact)
    SELECT id, event_id, sender_id, invitee_id, contact,
           CASE status WHEN 'tentative' THEN 'pending' WHEN 'waitlisted' THEN 'rejected'
                       ELSE status END,
           created_at,
           CASE WHEN status IN ('tentative', 'cancelled', 'expired') THEN NULL ELSE answered_at END,
           message, expires_at, cancelled_at, last_resent_at, version, held_contact
    FROM invitations;
DROP TABLE invitations;
ALTER TABLE invitations_old RENAME TO invitations;
CREATE UNIQUE INDEX invitations_one_pending ON invitations (event_id, invitee_id) WHERE status = 'pending';
CREATE INDEX invitations_event_invitee_id ON invitations (event_id, invitee_id, id);
CREATE INDEX invitations_event_id_id ON invitations (event_id, id);
CREATE INDEX invitations_event_status_id ON invitations (event_id, status, id);
CREATE INDEX invitations_received ON invitations (invitee_id, status, id);
CREATE INDEX invitations_received_all ON invitations (invitee_id, id);
CREATE INDEX invitations_sent ON invitations (sender_id, status, id);
CREATE INDEX invitations_sent_all ON invitations (sender_id, id);
CREATE INDEX invitations_pending_expiry ON invitations (expires_at) WHERE status = 'pending';
CREATE INDEX invitations_held ON invitations (held_contact) WHERE held_contact IS NOT NULL;

ALTER TABLE event_members DROP COLUMN guests;
ALTER TABLE events DROP COLUMN seats_taken;
ALTER TABLE events DROP COLUMN rsvp_deadline;
ALTER TABLE events DROP COLUMN waitlist;
ALTER TABLE events DROP COLUMN max_guests;
ALTER TABLE events DROP COLUMN capacity;

COMMIT;
PRAGMA foreign_keys = ON;
