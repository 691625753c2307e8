DROP TRIGGER event_members_keep_owner ON event_members;
DROP FUNCTION event_members_keep_owner();
DROP INDEX event_members_one_owner;
UPDATE event_members SET role = 'member' WHERE role = 'cohost';
ALTER TABLE event_members DROP CONSTRAINT event_members_role_check;
ALTER TABLE event_members ADD CONSTRAINT event_members_role_check
    CHECK (role IN ('owner', 'member'));
