-- Webhook deliveries take their change's payload back before it goes.
UPDATE deliveries SET payload = (SELECT p.payload FROM change_payloads AS p
    WHERE p.change_id = deliveries.change_id) WHERE payload = '';
DROP INDEX deliveries_change;
DROP TABLE change_payloads;
