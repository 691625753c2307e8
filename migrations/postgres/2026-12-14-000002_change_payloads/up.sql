-- One stored payload per change, shared by all its webhook deliveries (docs/operations.md,
-- "Webhook and email delivery"): a change sent to ten webhooks keeps its JSON once, not ten
-- times. A webhook delivery's own `payload` is then '' (never a payload: every one is JSON), and
-- its attempts send the change's; emails keep their own composed message. Rows written before
-- this migration keep theirs. A payload goes with the last delivery that needs it (the purge).
CREATE TABLE change_payloads (
    change_id  BIGINT PRIMARY KEY,
    payload    TEXT NOT NULL CONSTRAINT change_payloads_payload CHECK (payload <> ''),
    created_at TIMESTAMPTZ NOT NULL
);
-- The purge's look for deliveries that still need a payload.
CREATE INDEX deliveries_change ON deliveries (change_id);
-- Only a webhook delivery may share its change's payload.
ALTER TABLE deliveries ADD CONSTRAINT deliveries_own_payload
    CHECK (webhook_id IS NOT NULL OR payload <> '');
