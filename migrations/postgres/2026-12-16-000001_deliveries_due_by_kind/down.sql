CREATE INDEX deliveries_due ON deliveries (due_at, id) WHERE state = 'pending';
DROP INDEX deliveries_due_webhooks;
DROP INDEX deliveries_due_emails;
