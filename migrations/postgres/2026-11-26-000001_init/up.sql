-- Ids are UUIDv7 strings: TEXT with the "C" collation sorts them in time order, byte by byte.
-- Timestamps are UTC in TIMESTAMP columns (the types diesel reads alike on both backends).

CREATE TABLE users (
    id            TEXT COLLATE "C" PRIMARY KEY,
    name          TEXT NOT NULL,
    email         TEXT,
    mobile        TEXT,
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    CONSTRAINT users_email_or_mobile CHECK (email IS NOT NULL OR mobile IS NOT NULL),
    -- Stored lowercased, so the unique constraint is case-insensitive.
    CONSTRAINT users_email_lowercase CHECK (email = lower(email)),
    CONSTRAINT users_mobile_e164 CHECK (mobile LIKE '+%'),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_mobile_key UNIQUE (mobile)
);

CREATE TABLE access_tokens (
    token_hash BYTEA PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX access_tokens_user_id ON access_tokens (user_id);

CREATE TABLE events (
    id            TEXT COLLATE "C" PRIMARY KEY,
    owner_id      TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    title         TEXT NOT NULL,
    description   TEXT,
    location      TEXT,
    starts_at     TIMESTAMP,
    ends_at       TIMESTAMP,
    members_count BIGINT NOT NULL DEFAULT 1 CHECK (members_count >= 1),
    created_at    TIMESTAMP NOT NULL,
    CONSTRAINT events_ends_after_start CHECK (ends_at IS NULL OR starts_at IS NULL OR ends_at >= starts_at)
);

CREATE TABLE event_members (
    id        TEXT COLLATE "C" PRIMARY KEY,
    event_id  TEXT COLLATE "C" NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    user_id   TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role      TEXT NOT NULL CHECK (role IN ('owner', 'member')),
    joined_at TIMESTAMP NOT NULL,
    CONSTRAINT event_members_event_user_key UNIQUE (event_id, user_id)
);
-- Members of an event, newest first.
CREATE INDEX event_members_event_id_id ON event_members (event_id, id);
-- Events of a member, newest first.
CREATE INDEX event_members_user_id_event_id ON event_members (user_id, event_id);

CREATE TABLE invitations (
    id          TEXT COLLATE "C" PRIMARY KEY,
    event_id    TEXT COLLATE "C" NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    sender_id   TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    invitee_id  TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    contact     TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected')),
    created_at  TIMESTAMP NOT NULL,
    answered_at TIMESTAMP,
    CONSTRAINT invitations_answered_at_iff_answered CHECK ((status = 'pending') = (answered_at IS NULL)),
    CONSTRAINT invitations_not_to_self CHECK (sender_id <> invitee_id)
);
-- R7: at most one pending invitation per (event, invitee).
CREATE UNIQUE INDEX invitations_one_pending ON invitations (event_id, invitee_id) WHERE status = 'pending';
-- Latest invitation of a user to an event (R7, R8); received invitations filtered by event.
CREATE INDEX invitations_event_invitee_id ON invitations (event_id, invitee_id, id);
-- Sent invitations filtered by event.
CREATE INDEX invitations_event_id_id ON invitations (event_id, id);
-- The two lists, with and without a status filter (keyset pagination on id).
CREATE INDEX invitations_received ON invitations (invitee_id, status, id);
CREATE INDEX invitations_received_all ON invitations (invitee_id, id);
CREATE INDEX invitations_sent ON invitations (sender_id, status, id);
CREATE INDEX invitations_sent_all ON invitations (sender_id, id);
