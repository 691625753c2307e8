DROP TABLE invitations;
DROP TABLE event_members;
DROP TABLE events;
DROP TABLE access_tokens;
DROP TABLE users;
