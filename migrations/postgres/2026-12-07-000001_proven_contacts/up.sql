-- Proven contacts, codes, held invitations and the message outbox (docs/api.md, "Proving
-- contacts"; docs/security.md).
--
-- A contact is proven once its owner entered a code sent to it (email_verified_at,
-- mobile_verified_at). Only proven contacts are unique; an unproven one is a claim that any number
-- of accounts may hold, as their contact (email, mobile) or as the replacement they asked for
-- (pending_email, pending_mobile). An account may lose every contact (another account proved it,
-- or it was erased), so the rule that one is always there goes.

ALTER TABLE users
    ADD COLUMN email_verified_at  TIMESTAMPTZ,
    ADD COLUMN mobile_verified_at TIMESTAMPTZ,
    ADD COLUMN pending_email      TEXT,
    ADD COLUMN pending_mobile     TEXT,
    ADD COLUMN locale             TEXT NOT NULL DEFAULT 'en',
    ADD COLUMN erased_at          TIMESTAMPTZ,
    ALTER COLUMN password_hash DROP NOT NULL,
    DROP CONSTRAINT users_email_key,
    DROP CONSTRAINT users_mobile_key,
    DROP CONSTRAINT users_email_or_mobile,
    ADD CONSTRAINT users_email_proof CHECK (email_verified_at IS NULL OR email IS NOT NULL),
    ADD CONSTRAINT users_mobile_proof CHECK (mobile_verified_at IS NULL OR mobile IS NOT NULL),
    ADD CONSTRAINT users_pending_email_lowercase CHECK (pending_email = lower(pending_email)),
    ADD CONSTRAINT users_pending_mobile_e164 CHECK (pending_mobile LIKE '+%'),
    ADD CONSTRAINT users_locale CHECK (locale IN ('en', 'fa'));

-- The invariant: one account per proven contact, whatever races the service loses.
CREATE UNIQUE INDEX users_proven_email ON users (email) WHERE email_verified_at IS NOT NULL;
CREATE UNIQUE INDEX users_proven_mobile ON users (mobile) WHERE mobile_verified_at IS NOT NULL;
-- Claims, looked up by contact (sends, proofs).
CREATE INDEX users_email ON users (email);
CREATE INDEX users_mobile ON users (mobile);
CREATE INDEX users_pending_email ON users (pending_email) WHERE pending_email IS NOT NULL;
CREATE INDEX users_pending_mobile ON users (pending_mobile) WHERE pending_mobile IS NOT NULL;

-- Contacts stored before this version were the only claim on them: proven as of the upgrade. The
-- one row of legacy_contacts remembers when, until the first start after the upgrade applies the
-- operator's choice (LEGACY_CONTACTS=proven keeps it, =unproven takes those proofs back) and
-- deletes the row.
CREATE TABLE legacy_contacts (
    id        SMALLINT PRIMARY KEY,
    proven_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT legacy_contacts_one_row CHECK (id = 1)
);
INSERT INTO legacy_contacts (id, proven_at)
    SELECT 1, date_trunc('milliseconds', now()) WHERE EXISTS (SELECT 1 FROM users);
UPDATE users SET email_verified_at = (SELECT proven_at FROM legacy_contacts) WHERE email IS NOT NULL;
UPDATE users SET mobile_verified_at = (SELECT proven_at FROM legacy_contacts) WHERE mobile IS NOT NULL;

-- One live code per account and purpose: a code proving the email, the mobile, or (login) one
-- sent to a proven contact to log in, reset the password or erase the account. Only its keyed
-- hash is kept.
CREATE TABLE contact_codes (
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    contact    TEXT NOT NULL,
    code_hash  BYTEA NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, purpose),
    CONSTRAINT contact_codes_purpose CHECK (purpose IN ('email', 'mobile', 'login')),
    CONSTRAINT contact_codes_attempts CHECK (attempts >= 0)
);
CREATE INDEX contact_codes_expires_at ON contact_codes (expires_at);

-- A held invitation: sent to a contact that its invitee claims but has not proven. It is kept
-- from every query that serves the invitee until the contact is proven (held_contact, the
-- contact normalized, then goes back to NULL).
ALTER TABLE invitations ADD COLUMN held_contact TEXT;
CREATE INDEX invitations_held ON invitations (held_contact) WHERE held_contact IS NOT NULL;

-- Messages to people (codes, invitation texts), sent after the request that made them committed,
-- retried, as deliveries are.
CREATE TABLE messages (
    id          UUID PRIMARY KEY,
    channel     TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    -- The change it tells of, if any: one message per change and recipient.
    change_id   BIGINT,
    payload     TEXT NOT NULL,
    state       TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    due_at      TIMESTAMPTZ,
    claim       UUID,
    lease_until TIMESTAMPTZ,
    last_error  TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
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
