-- Roles (docs/api.md, "Roles and members"): owner, cohost or member.
--
-- SQLite cannot alter a CHECK constraint: the table is rebuilt (new table, copy, drop, rename) and
-- its indexes made again. No table refers to event_members, so nothing else changes.
CREATE TABLE event_members_new (
    id        TEXT PRIMARY KEY,
    event_id  TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role      TEXT NOT NULL CHECK (role IN ('owner', 'cohost', 'member')),
    joined_at TIMESTAMP NOT NULL,
    CONSTRAINT event_members_event_user_key UNIQUE (event_id, user_id)
);
INSERT INTO event_members_new (id, event_id, user_id, role, joined_at)
    SELECT id, event_id, user_id, role, joined_at FROM event_members;
DROP TABLE event_members;
ALTER TABLE event_members_new RENAME TO event_members;

-- Members of an event, newest first.
CREATE INDEX event_members_event_id_id ON event_members (event_id, id);
-- Events of a member, newest first.
CREATE INDEX event_members_user_id_event_id ON event_members (user_id, event_id);

-- Exactly one owner per event. At most one: this index. At least one: the event and its owner's
-- row are made in one transaction, and the triggers below refuse to delete the owner's row, or to
-- give it another role, while its event exists (deleting the event removes it with the event).
CREATE UNIQUE INDEX event_members_one_owner ON event_members (event_id) WHERE role = 'owner';

CREATE TRIGGER event_members_keep_owner_row
    BEFORE DELETE ON event_members
    FOR EACH ROW WHEN OLD.role = 'owner' AND EXISTS (SELECT 1 FROM events WHERE id = OLD.event_id)
BEGIN
    SELECT RAISE(ABORT, 'an event keeps its owner');
END;

CREATE TRIGGER event_members_keep_owner_role
    BEFORE UPDATE ON event_members
    FOR EACH ROW WHEN OLD.role = 'owner'
        AND (NEW.role <> 'owner' OR NEW.event_id <> OLD.event_id OR NEW.user_id <> OLD.user_id)
BEGIN
    SELECT RAISE(ABORT, 'an event keeps its owner');
END;
