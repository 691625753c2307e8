-- Webhook endpoint verification (docs/api.md, "Verifying an endpoint"): a webhook receives
-- nothing until its endpoint echoes a signed challenge. `verified_at` is when it did; webhooks
-- registered before this migration count as verified when they were registered. While pending,
-- `verify_due_at` is when the endpoint is asked next and `verify_attempts` how often it was
-- asked; a worker claims the asking under a lease (`verify_claim`, `verify_lease_until`).
-- `verify_gave_up_at`: the schedule ran out (the webhook shows as disabled, `unverified`).
ALTER TABLE webhooks ADD COLUMN verified_at TIMESTAMP;
UPDATE webhooks SET verified_at = created_at;
ALTER TABLE webhooks ADD COLUMN verify_attempts INTEGER NOT NULL DEFAULT 0
    CONSTRAINT webhooks_verify_attempts CHECK (verify_attempts >= 0);
ALTER TABLE webhooks ADD COLUMN verify_due_at TIMESTAMP;
ALTER TABLE webhooks ADD COLUMN verify_claim TEXT;
ALTER TABLE webhooks ADD COLUMN verify_lease_until TIMESTAMP;
ALTER TABLE webhooks ADD COLUMN verify_gave_up_at TIMESTAMP;
-- The workers' look for endpoints due to be asked.
CREATE INDEX webhooks_verify_due ON webhooks (verify_due_at) WHERE verify_due_at IS NOT NULL;
