-- Native PostgreSQL types (docs/architecture.md, "Persistence choices"): ids become uuid (they
-- were UUIDv7 strings in TEXT COLLATE "C") and times timestamptz (they were UTC in TIMESTAMP
-- columns). In place, in this migration's one transaction:
--
-- - the foreign keys between ids go first, because a key cannot join a text column to a uuid one
--   while the tables are converted one after another, and come back at the end as they were (same
--   names, same ON DELETE), checked against every row;
-- - each table is rewritten once (one ALTER TABLE with all its columns); PostgreSQL rebuilds its
--   indexes (the partial ones included), checks and primary keys under their own names, and the
--   event_members_keep_owner trigger, which names no converted column, stays as it is;
-- - stored times are read as UTC (AT TIME ZONE 'UTC'), as the service wrote them, whatever the
--   session's TimeZone (diesel's sessions are UTC; a psql session may not be);
-- - a row whose id is not a UUID (the service never wrote one) stops the migration, which then
--   rolls back whole.
--
-- uuid compares its 16 bytes in order, and so does the lowercase hyphenated text under "C" (hex
-- digits sort like the nibbles they spell): UUIDv7 ids still sort in time order, and keyset
-- pagination (id < cursor ORDER BY id DESC) walks the same indexes, now 16-byte keys instead of
-- 37-byte ones.
--
-- Left as they were: names and keys that are not ids (service_secrets.name, idempotency_keys.key,
-- abuse_events.key), abuse_events.at (already timestamptz), and domain_events_staged.recipients,
-- a space-separated list of user ids that the sequencer only moves into domain_event_recipients.
-- The whole table is locked for the rewrite (docs/operations.md, "Upgrading to native types").

ALTER TABLE access_tokens
    DROP CONSTRAINT access_tokens_user_id_fkey;
ALTER TABLE events
    DROP CONSTRAINT events_owner_id_fkey;
ALTER TABLE event_members
    DROP CONSTRAINT event_members_event_id_fkey,
    DROP CONSTRAINT event_members_user_id_fkey;
ALTER TABLE invitations
    DROP CONSTRAINT invitations_event_id_fkey,
    DROP CONSTRAINT invitations_sender_id_fkey,
    DROP CONSTRAINT invitations_invitee_id_fkey;
ALTER TABLE idempotency_keys
    DROP CONSTRAINT idempotency_keys_user_id_fkey;
ALTER TABLE domain_event_recipients
    DROP CONSTRAINT domain_event_recipients_user_id_fkey;
ALTER TABLE stream_tickets
    DROP CONSTRAINT stream_tickets_user_id_fkey;

ALTER TABLE users
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN created_at TYPE timestamptz USING created_at AT TIME ZONE 'UTC';
ALTER TABLE access_tokens
    ALTER COLUMN user_id TYPE uuid USING user_id::uuid,
    ALTER COLUMN created_at TYPE timestamptz USING created_at AT TIME ZONE 'UTC',
    ALTER COLUMN expires_at TYPE timestamptz USING expires_at AT TIME ZONE 'UTC',
    ALTER COLUMN revoked_at TYPE timestamptz USING revoked_at AT TIME ZONE 'UTC';
ALTER TABLE events
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN owner_id TYPE uuid USING owner_id::uuid,
    ALTER COLUMN starts_at TYPE timestamptz USING starts_at AT TIME ZONE 'UTC',
    ALTER COLUMN ends_at TYPE timestamptz USING ends_at AT TIME ZONE 'UTC',
    ALTER COLUMN created_at TYPE timestamptz USING created_at AT TIME ZONE 'UTC';
ALTER TABLE event_members
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN event_id TYPE uuid USING event_id::uuid,
    ALTER COLUMN user_id TYPE uuid USING user_id::uuid,
    ALTER COLUMN joined_at TYPE timestamptz USING joined_at AT TIME ZONE 'UTC';
ALTER TABLE invitations
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN event_id TYPE uuid USING event_id::uuid,
    ALTER COLUMN sender_id TYPE uuid USING sender_id::uuid,
    ALTER COLUMN invitee_id TYPE uuid USING invitee_id::uuid,
    ALTER COLUMN created_at TYPE timestamptz USING created_at AT TIME ZONE 'UTC',
    ALTER COLUMN answered_at TYPE timestamptz USING answered_at AT TIME ZONE 'UTC',
    ALTER COLUMN expires_at TYPE timestamptz USING expires_at AT TIME ZONE 'UTC',
    ALTER COLUMN cancelled_at TYPE timestamptz USING cancelled_at AT TIME ZONE 'UTC',
    ALTER COLUMN last_resent_at TYPE timestamptz USING last_resent_at AT TIME ZONE 'UTC';
ALTER TABLE service_secrets
    ALTER COLUMN created_at TYPE timestamptz USING created_at AT TIME ZONE 'UTC';
ALTER TABLE idempotency_keys
    ALTER COLUMN user_id TYPE uuid USING user_id::uuid,
    ALTER COLUMN claim TYPE uuid USING claim::uuid,
    ALTER COLUMN created_at TYPE timestamptz USING created_at AT TIME ZONE 'UTC',
    ALTER COLUMN expires_at TYPE timestamptz USING expires_at AT TIME ZONE 'UTC',
    ALTER COLUMN locked_until TYPE timestamptz USING locked_until AT TIME ZONE 'UTC';
ALTER TABLE domain_events
    ALTER COLUMN occurred_at TYPE timestamptz USING occurred_at AT TIME ZONE 'UTC';
ALTER TABLE domain_events_staged
    ALTER COLUMN occurred_at TYPE timestamptz USING occurred_at AT TIME ZONE 'UTC';
ALTER TABLE domain_event_recipients
    ALTER COLUMN user_id TYPE uuid USING user_id::uuid;
ALTER TABLE stream_tickets
    ALTER COLUMN user_id TYPE uuid USING user_id::uuid,
    ALTER COLUMN expires_at TYPE timestamptz USING expires_at AT TIME ZONE 'UTC';

ALTER TABLE access_tokens ADD CONSTRAINT access_tokens_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE events ADD CONSTRAINT events_owner_id_fkey
    FOREIGN KEY (owner_id) REFERENCES users (id);
ALTER TABLE event_members ADD CONSTRAINT event_members_event_id_fkey
    FOREIGN KEY (event_id) REFERENCES events (id) ON DELETE CASCADE;
ALTER TABLE event_members ADD CONSTRAINT event_members_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE invitations ADD CONSTRAINT invitations_event_id_fkey
    FOREIGN KEY (event_id) REFERENCES events (id) ON DELETE CASCADE;
ALTER TABLE invitations ADD CONSTRAINT invitations_sender_id_fkey
    FOREIGN KEY (sender_id) REFERENCES users (id);
ALTER TABLE invitations ADD CONSTRAINT invitations_invitee_id_fkey
    FOREIGN KEY (invitee_id) REFERENCES users (id);
ALTER TABLE idempotency_keys ADD CONSTRAINT idempotency_keys_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE domain_event_recipients ADD CONSTRAINT domain_event_recipients_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE stream_tickets ADD CONSTRAINT stream_tickets_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
