-- The sent list shows what its sender manages (docs/api.md, "Roles"): each request reads the
-- caller's memberships with their roles. With the role in the index beside the event, that read
-- is index-only: a few index pages, instead of a heap page for every event the caller belongs to.
-- The new index is built first, under another name: building takes a lock that makes writes to
-- event_members wait and lets reads go on. Dropping the old one and renaming take an exclusive
-- lock, but only for the rest of the migration's transaction, which is then about to commit.
CREATE INDEX event_members_user_id_event_id_role ON event_members (user_id, event_id) INCLUDE (role);
DROP INDEX event_members_user_id_event_id;
ALTER INDEX event_members_user_id_event_id_role RENAME TO event_members_user_id_event_id;
