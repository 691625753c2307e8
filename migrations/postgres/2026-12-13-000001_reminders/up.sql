-- Reminders (docs/api.md, "Reminders").
-- An event's rules, as the API shows them: up to 5 `{before}:{to}` separated by commas
-- (`1d:accepted,1h:pending`); NULL when it has none.
ALTER TABLE events ADD COLUMN reminders TEXT
    CONSTRAINT events_reminders_length CHECK (length(reminders) BETWEEN 1 AND 200);

-- When each rule of an event with a start falls due (its start less the rule's lead): what the
-- sweeper reads. Rewritten with the event's rules or start, in the same transaction; emptied when
-- the event is deleted.
CREATE TABLE reminder_schedule (
    event_id uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    rule     TEXT NOT NULL CONSTRAINT reminder_schedule_rule_length CHECK (length(rule) BETWEEN 1 AND 32),
    audience TEXT NOT NULL CONSTRAINT reminder_schedule_audience
        CHECK (audience IN ('accepted', 'tentative', 'pending')),
    due_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (event_id, rule)
);
CREATE INDEX reminder_schedule_due ON reminder_schedule (due_at);

-- Each reminder sent: one row per event, rule (`{seconds}:{to}`), person and start, written in
-- the same transaction as its message. Its key is what makes a reminder go out once across every
-- process; a moved start makes new keys. Purged with the change feed.
CREATE TABLE reminders_sent (
    event_id  uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    rule      TEXT NOT NULL CONSTRAINT reminders_sent_rule_length CHECK (length(rule) BETWEEN 1 AND 32),
    user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    starts_at TIMESTAMPTZ NOT NULL,
    sent_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (event_id, rule, user_id, starts_at)
);
CREATE INDEX reminders_sent_user ON reminders_sent (user_id);
CREATE INDEX reminders_sent_sent_at ON reminders_sent (sent_at);
