ALTER TABLE invitations DROP COLUMN version;
ALTER TABLE events DROP COLUMN version;
