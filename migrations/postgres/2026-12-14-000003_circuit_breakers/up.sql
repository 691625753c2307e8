-- Each webhook's circuit breaker (docs/operations.md, "Webhook and email delivery"): its
-- unanswered attempts in a row (a timeout, a refused or failed connection), and until when its
-- deliveries are not claimed once that run is long enough. Any answer resets both.
ALTER TABLE webhooks ADD COLUMN unanswered INTEGER NOT NULL DEFAULT 0
    CONSTRAINT webhooks_unanswered CHECK (unanswered >= 0);
ALTER TABLE webhooks ADD COLUMN paused_until TIMESTAMPTZ;
