DROP TABLE reminders_sent;
DROP TABLE reminder_schedule;
ALTER TABLE events DROP COLUMN reminders;
