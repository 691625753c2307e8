-- The statuses cancelled and expired do not exist before this migration: such rows are dropped.
CREATE TABLE invitations_old (
    id          TEXT PRIMARY KEY,
    event_id    TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    sender_id   TEXT NOT NULL REFERENCES users (id),
    invitee_id  TEXT NOT NULL REFERENCES users (id),
    contact     TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected')),
    created_at  TIMESTAMP NOT NULL,
    answered_at TIMESTAMP,
    CONSTRAINT invitations_answered_at_iff_answered CHECK ((status = 'pending') = (answered_at IS NULL)),
    CONSTRAINT invitations_not_to_self CHECK (sender_id <> invitee_id)
);
INSERT INTO invitations_old (id, event_id, sender_id, invitee_id, contact, status, created_at, answered_at)
    SELECT id, event_id, sender_id, invitee_id, contact, status, created_at, answered_at FROM invitations
    WHERE status IN ('pending', 'accepted', 'rejected');
DROP TABLE invitations;
ALTER TABLE invitations_old RENAME TO invitations;

CREATE UNIQUE INDEX invitations_one_pending ON invitations (event_id, invitee_id) WHERE status = 'pending';
CREATE INDEX invitations_event_invitee_id ON invitations (event_id, invitee_id, id);
CREATE INDEX invitations_event_id_id ON invitations (event_id, id);
CREATE INDEX invitations_received ON invitations (invitee_id, status, id);
CREATE INDEX invitations_received_all ON invitations (invitee_id, id);
CREATE INDEX invitations_sent ON invitations (sender_id, status, id);
CREATE INDEX invitations_sent_all ON invitations (sender_id, id);
