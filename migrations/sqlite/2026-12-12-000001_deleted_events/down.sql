-- Every deleted event goes, with its invitations, as deleting did before.
DELETE FROM events WHERE id IN (SELECT event_id FROM event_deletions);
DROP TRIGGER event_members_keep_owner_row;
CREATE TRIGGER event_members_keep_owner_row
    BEFORE DELETE ON event_members
    FOR EACH ROW WHEN OLD.role = 'owner' AND EXISTS (SELECT 1 FROM events WHERE id = OLD.event_id)
BEGIN
    SELECT RAISE(ABORT, 'an event keeps its owner');
END;
DROP TABLE event_deletions;
