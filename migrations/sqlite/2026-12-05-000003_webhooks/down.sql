DROP TABLE delivery_attempts;
DROP TABLE deliveries;
DROP TABLE delivery_dispatch;
DROP TABLE webhooks;
