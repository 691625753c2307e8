DROP TABLE stream_tickets;
DROP TABLE domain_event_recipients;
DROP TABLE domain_events;
DROP TABLE domain_event_sequence;
