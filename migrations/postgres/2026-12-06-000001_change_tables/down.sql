-- The names before up.sql, in the reverse order.
ALTER INDEX change_recipients_change RENAME TO domain_event_recipients_event;
ALTER TABLE change_recipients
    RENAME CONSTRAINT change_recipients_change_id_fkey TO domain_event_recipients_event_id_fkey;
ALTER TABLE change_recipients
    RENAME CONSTRAINT change_recipients_user_id_fkey TO domain_event_recipients_user_id_fkey;
ALTER TABLE change_recipients
    RENAME CONSTRAINT change_recipients_pkey TO domain_event_recipients_pkey;
ALTER TABLE change_recipients RENAME COLUMN change_id TO event_id;
ALTER TABLE change_recipients RENAME TO domain_event_recipients;

ALTER SEQUENCE changes_staged_staged_id_seq RENAME TO domain_events_staged_staged_id_seq;
ALTER TABLE changes_staged RENAME CONSTRAINT changes_staged_kind TO domain_events_staged_kind;
ALTER TABLE changes_staged RENAME CONSTRAINT changes_staged_pkey TO domain_events_staged_pkey;
ALTER TABLE changes_staged RENAME TO domain_events_staged;

ALTER INDEX changes_occurred_at RENAME TO domain_events_occurred_at;
ALTER TABLE changes RENAME CONSTRAINT changes_kind TO domain_events_kind;
ALTER TABLE changes RENAME CONSTRAINT changes_pkey TO domain_events_pkey;
ALTER TABLE changes RENAME TO domain_events;

ALTER TABLE change_sequence
    RENAME CONSTRAINT change_sequence_last_id TO domain_event_sequence_last_id;
ALTER TABLE change_sequence
    RENAME CONSTRAINT change_sequence_one_row TO domain_event_sequence_one_row;
ALTER TABLE change_sequence RENAME CONSTRAINT change_sequence_pkey TO domain_event_sequence_pkey;
ALTER TABLE change_sequence RENAME TO domain_event_sequence;
