DROP TABLE domain_events_staged;
