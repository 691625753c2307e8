DROP TABLE messages;
DROP INDEX invitations_held;
ALTER TABLE invitations DROP COLUMN held_contact;
DROP TABLE contact_codes;
DROP TABLE legacy_contacts;
-- Unproven claims cannot be kept under the old unique constraints: they go.
UPDATE users SET email = NULL WHERE email_verified_at IS NULL;
UPDATE users SET mobile = NULL WHERE mobile_verified_at IS NULL;
UPDATE users SET email = 'erased-' || id || '@invalid' WHERE email IS NULL AND mobile IS NULL;
UPDATE users SET password_hash = '' WHERE password_hash IS NULL;
DROP INDEX users_proven_email;
DROP INDEX users_proven_mobile;
DROP INDEX users_email;
DROP INDEX users_mobile;
DROP INDEX users_pending_email;
DROP INDEX users_pending_mobile;
ALTER TABLE users
    DROP CONSTRAINT users_email_proof,
    DROP CONSTRAINT users_mobile_proof,
    DROP CONSTRAINT users_pending_email_lowercase,
    DROP CONSTRAINT users_pending_mobile_e164,
    DROP CONSTRAINT users_locale,
    DROP COLUMN email_verified_at,
    DROP COLUMN mobile_verified_at,
    DROP COLUMN pending_email,
    DROP COLUMN pending_mobile,
    DROP COLUMN locale,
    DROP COLUMN erased_at,
    ALTER COLUMN password_hash SET NOT NULL,
    ADD CONSTRAINT users_email_or_mobile CHECK (email IS NOT NULL OR mobile IS NOT NULL),
    ADD CONSTRAINT users_email_key UNIQUE (email),
    ADD CONSTRAINT users_mobile_key UNIQUE (mobile);
