DROP TRIGGER event_members_keep_owner_role;
DROP TRIGGER event_members_keep_owner_row;
CREATE TABLE event_members_old (
    id        TEXT PRIMARY KEY,
    event_id  TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role      TEXT NOT NULL CHECK (role IN ('owner', 'member')),
    joined_at TIMESTAMP NOT NULL,
    CONSTRAINT event_members_event_user_key UNIQUE (event_id, user_id)
);
INSERT INTO event_members_old (id, event_id, user_id, role, joined_at)
    SELECT id, event_id, user_id, CASE role WHEN 'cohost' THEN 'member' ELSE role END, joined_at
    FROM event_members;
DROP TABLE event_members;
ALTER TABLE event_members_old RENAME TO event_members;
CREATE INDEX event_members_event_id_id ON event_members (event_id, id);
CREATE INDEX event_members_user_id_event_id ON event_members (user_id, event_id);
