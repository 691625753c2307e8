ALTER TABLE webhooks DROP COLUMN paused_until;
ALTER TABLE webhooks DROP COLUMN unanswered;
