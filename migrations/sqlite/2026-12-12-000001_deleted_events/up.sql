-- Deleting an event (docs/api.md, "Deleting an event"): the event's row stays, without members,
-- so that its invitations stay readable by their parties as cancelled; this table marks it deleted
-- and keeps who managed it then (the owner and the co-hosts): a sender still sees what they sent
-- only if they managed the event when it went. The retention purge deletes the event's row, and
-- everything of it, EVENT_RETENTION_DAYS later.
CREATE TABLE event_deletions (
    event_id   TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL CONSTRAINT event_deletions_role CHECK (role IN ('owner', 'cohost')),
    deleted_at TIMESTAMP NOT NULL,
    PRIMARY KEY (event_id, user_id)
);
CREATE INDEX event_deletions_user ON event_deletions (user_id);
CREATE INDEX event_deletions_deleted_at ON event_deletions (deleted_at);

-- An event keeps its owner's membership while it exists and is not deleted: deleting it removes
-- every membership, the owner's too, once it is marked here.
DROP TRIGGER event_members_keep_owner_row;
CREATE TRIGGER event_members_keep_owner_row
    BEFORE DELETE ON event_members
    FOR EACH ROW WHEN OLD.role = 'owner' AND EXISTS (SELECT 1 FROM events WHERE id = OLD.event_id)
        AND NOT EXISTS (SELECT 1 FROM event_deletions WHERE event_id = OLD.event_id)
BEGIN
    SELECT RAISE(ABORT, 'an event keeps its owner');
END;
