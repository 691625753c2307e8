-- Back to ids as TEXT COLLATE "C" and times as UTC TIMESTAMPs, the way up.sql came: the foreign
-- keys go, each table is rewritten once, the keys come back as they were.

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
    ALTER COLUMN id TYPE TEXT COLLATE "C" USING id::text,
    ALTER COLUMN created_at TYPE timestamp USING created_at AT TIME ZONE 'UTC';
ALTER TABLE access_tokens
    ALTER COLUMN user_id TYPE TEXT COLLATE "C" USING user_id::text,
    ALTER COLUMN created_at TYPE timestamp USING created_at AT TIME ZONE 'UTC',
    ALTER COLUMN expires_at TYPE timestamp USING expires_at AT TIME ZONE 'UTC',
    ALTER COLUMN revoked_at TYPE timestamp USING revoked_at AT TIME ZONE 'UTC';
ALTER TABLE events
    ALTER COLUMN id TYPE TEXT COLLATE "C" USING id::text,
    ALTER COLUMN owner_id TYPE TEXT COLLATE "C" USING owner_id::text,
    ALTER COLUMN starts_at TYPE timestamp USING starts_at AT TIME ZONE 'UTC',
    ALTER COLUMN ends_at TYPE timestamp USING ends_at AT TIME ZONE 'UTC',
    ALTER COLUMN created_at TYPE timestamp USING created_at AT TIME ZONE 'UTC';
ALTER TABLE event_members
    ALTER COLUMN id TYPE TEXT COLLATE "C" USING id::text,
    ALTER COLUMN event_id TYPE TEXT COLLATE "C" USING event_id::text,
    ALTER COLUMN user_id TYPE TEXT COLLATE "C" USING user_id::text,
    ALTER COLUMN joined_at TYPE timestamp USING joined_at AT TIME ZONE 'UTC';
ALTER TABLE invitations
    ALTER COLUMN id TYPE TEXT COLLATE "C" USING id::text,
    ALTER COLUMN event_id TYPE TEXT COLLATE "C" USING event_id::text,
    ALTER COLUMN sender_id TYPE TEXT COLLATE "C" USING sender_id::text,
    ALTER COLUMN invitee_id TYPE TEXT COLLATE "C" USING invitee_id::text,
    ALTER COLUMN created_at TYPE timestamp USING created_at AT TIME ZONE 'UTC',
    ALTER COLUMN answered_at TYPE timestamp USING answered_at AT TIME ZONE 'UTC',
    ALTER COLUMN expires_at TYPE timestamp USING expires_at AT TIME ZONE 'UTC',
    ALTER COLUMN cancelled_at TYPE timestamp USING cancelled_at AT TIME ZONE 'UTC',
    ALTER COLUMN last_resent_at TYPE timestamp USING last_resent_at AT TIME ZONE 'UTC';
ALTER TABLE service_secrets
    ALTER COLUMN created_at TYPE timestamp USING created_at AT TIME ZONE 'UTC';
ALTER TABLE idempotency_keys
    ALTER COLUMN user_id TYPE TEXT COLLATE "C" USING user_id::text,
    ALTER COLUMN claim TYPE TEXT COLLATE "C" USING claim::text,
    ALTER COLUMN created_at TYPE timestamp USING created_at AT TIME ZONE 'UTC',
    ALTER COLUMN expires_at TYPE timestamp USING expires_at AT TIME ZONE 'UTC',
    ALTER COLUMN locked_until TYPE timestamp USING locked_until AT TIME ZONE 'UTC';
ALTER TABLE domain_events
    ALTER COLUMN occurred_at TYPE timestamp USING occurred_at AT TIME ZONE 'UTC';
ALTER TABLE domain_events_staged
    ALTER COLUMN occurred_at TYPE timestamp USING occurred_at AT TIME ZONE 'UTC';
ALTER TABLE domain_event_recipients
    ALTER COLUMN user_id TYPE TEXT COLLATE "C" USING user_id::text;
ALTER TABLE stream_tickets
    ALTER COLUMN user_id TYPE TEXT COLLATE "C" USING user_id::text,
    ALTER COLUMN expires_at TYPE timestamp USING expires_at AT TIME ZONE 'UTC';

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
