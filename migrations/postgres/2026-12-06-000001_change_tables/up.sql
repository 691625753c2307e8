-- The change feed's tables take the one name the code and the API give what they hold, "changes":
-- domain_events becomes changes, domain_events_staged changes_staged, domain_event_sequence
-- change_sequence and domain_event_recipients change_recipients, whose event_id (a change's id,
-- not an event's) becomes change_id. Their constraints, indexes and the stage's id sequence follow.
--
-- Names only: PostgreSQL renames in the catalog, no row is read or rewritten, and the column
-- default, the foreign keys and the indexes refer to what they name by oid, so they hold through.
ALTER TABLE domain_event_sequence RENAME TO change_sequence;
ALTER TABLE change_sequence RENAME CONSTRAINT domain_event_sequence_pkey TO change_sequence_pkey;
ALTER TABLE change_sequence
    RENAME CONSTRAINT domain_event_sequence_one_row TO change_sequence_one_row;
ALTER TABLE change_sequence
    RENAME CONSTRAINT domain_event_sequence_last_id TO change_sequence_last_id;

ALTER TABLE domain_events RENAME TO changes;
ALTER TABLE changes RENAME CONSTRAINT domain_events_pkey TO changes_pkey;
ALTER TABLE changes RENAME CONSTRAINT domain_events_kind TO changes_kind;
ALTER INDEX domain_events_occurred_at RENAME TO changes_occurred_at;

ALTER TABLE domain_events_staged RENAME TO changes_staged;
ALTER TABLE changes_staged RENAME CONSTRAINT domain_events_staged_pkey TO changes_staged_pkey;
ALTER TABLE changes_staged RENAME CONSTRAINT domain_events_staged_kind TO changes_staged_kind;
ALTER SEQUENCE domain_events_staged_staged_id_seq RENAME TO changes_staged_staged_id_seq;

ALTER TABLE domain_event_recipients RENAME TO change_recipients;
ALTER TABLE change_recipients RENAME COLUMN event_id TO change_id;
ALTER TABLE change_recipients
    RENAME CONSTRAINT domain_event_recipients_pkey TO change_recipients_pkey;
ALTER TABLE change_recipients
    RENAME CONSTRAINT domain_event_recipients_user_id_fkey TO change_recipients_user_id_fkey;
ALTER TABLE change_recipients
    RENAME CONSTRAINT domain_event_recipients_event_id_fkey TO change_recipients_change_id_fkey;
ALTER INDEX domain_event_recipients_event RENAME TO change_recipients_change;
