DROP INDEX event_members_user_id_event_id;
CREATE INDEX event_members_user_id_event_id ON event_members (user_id, event_id);
