-- Proven contacts, codes, held invitations and the message outbox (docs/api.md, "Proving
-- contacts"; docs/security.md). The PostgreSQL migration of the same name explains the columns.
--
-- SQLite cannot drop a table's UNIQUE or CHECK constraints, so users is rebuilt. Dropping a table
-- that others reference would run their ON DELETE CASCADE, so foreign keys are off meanwhile, which
-- only works outside a transaction: this migration runs its own (metadata.toml).

PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

CREATE TABLE users_proven (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    email              TEXT,
    mobile             TEXT,
    password_hash      TEXT,
    created_at         TIMESTAMP NOT NULL,
    email_verified_at  TIMESTAMP,
    mobile_verified_at TIMESTAMP,
    pending_email      TEXT,
    pending_mobile     TEXT,
    locale             TEXT NOT NULL DEFAULT 'en',
    erased_at          TIMESTAMP,
    CONSTRAINT users_email_lowercase CHECK (email = lower(email)),
    CONSTRAINT users_mobile_e164 CHECK (mobile LIKE '+%'),
    CONSTRAINT users_email_proof CHECK (email_verified_at IS NULL OR email IS NOT NULL),
    CONSTRAINT users_mobile_proof CHECK (mobile_verified_at IS NULL OR mobile IS NOT NULL),
    CONSTRAINT users_pending_email_lowercase CHECK (pending_email = lower(pending_email)),
    CONSTRAINT users_pending_mobile_e164 CHECK (pending_mobile LIKE '+%'),
    CONSTRAINT users_locale CHECK (locale IN ('en', 'fa'))
);

CREATE TABLE legacy_contacts (
    id        INTEGER PRIMARY KEY,
    proven_at TIMESTAMP NOT NULL,
    CONSTRAINT legacy_contacts_one_row CHECK (id = 1)
);
INSERT INTO legacy_contacts (id, proven_at)
    SELECT 1, strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE EXISTS (SELECT 1 FROM users);

INSERT INTO users_proven (id, name, email, mobile, password_hash, created_at, email_verified_at,
                          mobile_verified_at)
    SELECT id, name, email, mobile, password_hash, created_at,
           CASE WHEN email IS NOT NULL THEN (SELECT proven_at FROM legacy_contacts) END,
           CASE WHEN mobile IS NOT NULL THEN (SELECT proven_at FROM legacy_contacts) END
    FROM users;
DROP TABLE users;
ALTER TABLE users_proven RENAME TO users;

CREATE UNIQUE INDEX users_proven_email ON users (email) WHERE email_verified_at IS NOT NULL;
CREATE UNIQUE INDEX users_proven_mobile ON users (mobile) WHERE mobile_verified_at IS NOT NULL;
CREATE INDEX users_email ON users (email);
CREATE INDEX users_mobile ON users (mobile);
CREATE INDEX users_pending_email ON users (pending_email) WHERE pending_email IS NOT NULL;
CREATE INDEX users_pending_mobile ON users (pending_mobile) WHERE pending_mobile IS NOT NULL;

CREATE TABLE contact_codes (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    contact    TEXT NOT NULL,
    code_hash  BLOB NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, purpose),
    CONSTRAINT contact_codes_purpose CHECK (purpose IN ('email', 'mobile', 'login')),
    CONSTRAINT contact_codes_attempts CHECK (attempts >= 0)
);
CREATE INDEX contact_codes_expires_at ON contact_codes (expires_at);

ALTER TABLE invitations ADD COLUMN held_contact TEXT;
CREATE INDEX invitations_held ON invitations (held_contact) WHERE held_contact IS NOT NULL;

CREATE TABLE messages (
    id          TEXT PRIMARY KEY,
    channel     TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    change_id   BIGINT,
    payload     TEXT NOT NULL,
    state       TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    due_at      TIMESTAMP,
    claim       TEXT,
    lease_until TIMESTAMP,
    last_error  TEXT,
    created_at  TIMESTAMP NOT NULL,
    CONSTRAINT messages_channel CHECK (channel IN ('email', 'sms')),
    CONSTRAINT messages_state CHECK (state IN ('pending', 'sent', 'failed')),
    CONSTRAINT messages_due_iff_pending CHECK ((state = 'pending') = (due_at IS NOT NULL)),
    CONSTRAINT messages_claim_with_lease CHECK ((claim IS NULL) = (lease_until IS NULL)),
    CONSTRAINT messages_attempts CHECK (attempts >= 0)
);
CREATE UNIQUE INDEX messages_change_recipient ON messages (change_id, channel, recipient)
    WHERE change_id IS NOT NULL;
CREATE INDEX messages_due ON messages (due_at, id) WHERE state = 'pending';
CREATE INDEX messages_finished ON messages (created_at) WHERE state <> 'pending';

COMMIT;
PRAGMA foreign_keys = ON;
