DROP TABLE calendar_feeds;
ALTER TABLE events DROP COLUMN time_zone;
