PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
DROP TABLE messages;
DROP INDEX invitations_held;
ALTER TABLE invitations DROP COLUMN held_contact;
DROP TABLE contact_codes;
DROP TABLE legacy_contacts;
CREATE TABLE users_unproven (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    email         TEXT,
    mobile        TEXT,
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    CONSTRAINT users_email_or_mobile CHECK (email IS NOT NULL OR mobile IS NOT NULL),
    CONSTRAINT users_email_lowercase CHECK (email = lower(email)),
    CONSTRAINT users_mobile_e164 CHECK (mobile LIKE '+%'),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_mobile_key UNIQUE (mobile)
);
-- Unproven claims cannot be kept under the old unique constraints: they go.
INSERT INTO users_unproven (id, name, email, mobile, password_hash, created_at)
    SELECT id, name,
           CASE WHEN email_verified_at IS NOT NULL THEN email END,
           CASE WHEN mobile_verified_at IS NOT NULL THEN mobile END,
           coalesce(password_hash, ''), created_at
    FROM users;
UPDATE users_unproven SET email = 'erased-' || id || '@invalid' WHERE email IS NULL AND mobile IS NULL;
DROP TABLE users;
ALTER TABLE users_unproven RENAME TO users;
COMMIT;
PRAGMA foreign_keys = ON;
