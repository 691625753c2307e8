-- RSVP (docs/api.md, "Answering: maybe, guests and comments" and "Capacity and the waitlist").
-- The PostgreSQL migration of the same name explains the columns and constraints.
--
-- SQLite cannot alter a CHECK constraint, so invitations and changes are rebuilt (new table, copy,
-- drop, rename). change_recipients refers to changes: dropping it with foreign keys on would empty
-- every feed, so they are off meanwhile, which only works outside a transaction: this migration
-- runs its own (metadata.toml).

PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

ALTER TABLE events ADD COLUMN capacity INTEGER
    CONSTRAINT events_capacity CHECK (capacity BETWEEN 1 AND 100000);
ALTER TABLE events ADD COLUMN max_guests INTEGER NOT NULL DEFAULT 0
    CONSTRAINT events_max_guests CHECK (max_guests BETWEEN 0 AND 10);
ALTER TABLE events ADD COLUMN waitlist BOOLEAN NOT NULL DEFAULT 1;
ALTER TABLE events ADD COLUMN rsvp_deadline TIMESTAMP
    CONSTRAINT events_rsvp_deadline_by_start
    CHECK (rsvp_deadline IS NULL OR starts_at IS NULL OR rsvp_deadline <= starts_at);
ALTER TABLE events ADD COLUMN seats_taken INTEGER NOT NULL DEFAULT 0
    CONSTRAINT events_seats_within_capacity
    CHECK (seats_taken >= 0 AND (capacity IS NULL OR seats_taken <= capacity));

ALTER TABLE event_members ADD COLUMN guests INTEGER NOT NULL DEFAULT 0
    CONSTRAINT event_members_guests CHECK (guests BETWEEN 0 AND 10);

UPDATE events SET seats_taken = (
    SELECT count(*) FROM event_members m WHERE m.event_id = events.id AND m.role <> 'owner');

CREATE TABLE invitations_rsvp (
    id             TEXT PRIMARY KEY,
    event_id       TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    sender_id      TEXT NOT NULL REFERENCES users (id),
    invitee_id     TEXT NOT NULL REFERENCES users (id),
    contact        TEXT NOT NULL,
    status         TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    answered_at    TIMESTAMP,
    message        TEXT,
    expires_at     TIMESTAMP,
    cancelled_at   TIMESTAMP,
    last_resent_at TIMESTAMP,
    version        BIGINT NOT NULL DEFAULT 1,
    held_contact   TEXT,
    guests         INTEGER NOT NULL DEFAULT 0,
    comment        TEXT,
    CONSTRAINT invitations_status_check CHECK (status IN (
        'pending', 'tentative', 'accepted', 'waitlisted', 'rejected', 'cancelled', 'expired')),
    CONSTRAINT invitations_answered_at_iff_answered CHECK (
        (status = 'pending' AND answered_at IS NULL)
        OR (status IN ('tentative', 'accepted', 'waitlisted', 'rejected') AND answered_at IS NOT NULL)
        OR status IN ('cancelled', 'expired')),
    CONSTRAINT invitations_cancelled_at_iff_cancelled CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL)),
    CONSTRAINT invitations_message_length CHECK (message IS NULL OR length(message) BETWEEN 1 AND 500),
    CONSTRAINT invitations_not_to_self CHECK (sender_id <> invitee_id),
    CONSTRAINT invitations_guests CHECK (guests BETWEEN 0 AND 10),
    CONSTRAINT invitations_comment_length CHECK (comment IS NULL OR length(comment) BETWEEN 1 AND 500)
);
INSERT INTO invitations_rsvp (id, event_id, sender_id, invitee_id, contact, status, created_at,
                              answered_at, message, expires_at, cancelled_at, last_resent_at,
                              version, held_contact)
    SELECT id, event_id, sender_id, invitee_id, contact, status, created_at, answered_at, message,
           expires_at, cancelled_at, last_resent_at, version, held_contact
    FROM invitations;
DROP TABLE invitations;
ALTER TABLE invitations_rsvp RENAME TO invitations;

CREATE UNIQUE INDEX invitations_one_live ON invitations (event_id, invitee_id)
    WHERE status IN ('pending', 'tentative', 'waitlisted');
CREATE INDEX invitations_event_invitee_id ON invitations (event_id, invitee_id, id);
CREATE INDEX invitations_event_id_id ON invitations (event_id, id);
CREATE INDEX invitations_event_status_id ON invitations (event_id, status, id);
CREATE INDEX invitations_received ON invitations (invitee_id, status, id);
CREATE INDEX invitations_received_all ON invitations (invitee_id, id);
CREATE INDEX invitations_sent ON invitations (sender_id, status, id);
CREATE INDEX invitations_sent_all ON invitations (sender_id, id);
CREATE INDEX invitations_open_expiry ON invitations (expires_at)
    WHERE status IN ('pending', 'tentative');
CREATE INDEX invitations_held ON invitations (held_contact) WHERE held_contact IS NOT NULL;
CREATE INDEX invitations_waitlist ON invitations (event_id, answered_at, id)
    WHERE status = 'waitlisted';

CREATE TABLE changes_rsvp (
    id          BIGINT PRIMARY KEY,
    kind        TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    subject     TEXT NOT NULL,
    CONSTRAINT changes_kind CHECK (kind IN (
        'invitation.created', 'invitation.accepted', 'invitation.tentative',
        'invitation.waitlisted', 'invitation.rejected', 'invitation.cancelled',
        'invitation.expired', 'invitation.resent',
        'member.joined', 'member.removed', 'member.role_changed', 'member.party_changed',
        'event.updated', 'event.deleted'))
);
INSERT INTO changes_rsvp (id, kind, occurred_at, subject)
    SELECT id, kind, occurred_at, subject FROM changes;
DROP TABLE changes;
ALTER TABLE changes_rsvp RENAME TO changes;
CREATE INDEX changes_occurred_at ON changes (occurred_at);

COMMIT;
PRAGMA foreign_keys = ON;
