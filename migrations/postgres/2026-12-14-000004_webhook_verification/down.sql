DROP INDEX webhooks_verify_due;
ALTER TABLE webhooks DROP CONSTRAINT webhooks_verify_while_pending;
ALTER TABLE webhooks DROP COLUMN verify_gave_up_at;
ALTER TABLE webhooks DROP COLUMN verify_lease_until;
ALTER TABLE webhooks DROP COLUMN verify_claim;
ALTER TABLE webhooks DROP COLUMN verify_due_at;
ALTER TABLE webhooks DROP COLUMN verify_attempts;
ALTER TABLE webhooks DROP COLUMN verified_at;
