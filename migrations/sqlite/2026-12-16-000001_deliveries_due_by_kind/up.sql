-- Due deliveries, one index per kind (docs/operations.md, "Webhook and email delivery"). A claim
-- walks its kind's index in order and stops at the claim's size: an email backlog is not in the
-- webhooks' index, and the email claim's plan does not rest on the table's statistics (with one
-- index for both kinds, a table whose statistics were older than its backlog planned the email
-- claim as a scan of every pending delivery, then a sort: 250 ms a claim behind 280,000 emails).
CREATE INDEX deliveries_due_webhooks ON deliveries (due_at, id)
    WHERE state = 'pending' AND webhook_id IS NOT NULL;
CREATE INDEX deliveries_due_emails ON deliveries (due_at, id)
    WHERE state = 'pending' AND webhook_id IS NULL;
DROP INDEX deliveries_due;
