-- Row versions for conditional requests (docs/api.md, "Conditional requests"): every UPDATE of an
-- event's details, and every answer, cancel, resend and expiry of an invitation, adds one, so that
-- a write conditional on the version it read (`AND version = ?`) refuses to apply after another
-- one landed. Existing rows start at 1, as new ones do.
ALTER TABLE events ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE invitations ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
