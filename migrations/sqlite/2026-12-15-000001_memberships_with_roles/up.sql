-- The sent list shows what its sender manages (docs/api.md, "Roles"): each request reads the
-- caller's memberships with their roles. With the role in the index beside the event, the index
-- covers that read: no table row is visited for it.
DROP INDEX event_members_user_id_event_id;
CREATE INDEX event_members_user_id_event_id ON event_members (user_id, event_id, role);
