-- Webhook deliveries take their change's payload back before it goes.
UPDATE deliveries SET payload = p.payload FROM change_payloads AS p
    WHERE deliveries.payload = '' AND p.change_id = deliveries.change_id;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_own_payload;
DROP INDEX deliveries_change;
DROP TABLE change_payloads;
