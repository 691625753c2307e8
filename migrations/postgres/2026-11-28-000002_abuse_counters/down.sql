DROP TABLE abuse_events;
