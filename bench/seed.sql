-- Fills a migrated PostgreSQL database with a benchmark data set, set-based (no per-row round trips).
-- psql variables (with their defaults in bench/run.sh):
--   users, events, per_event (invitations per event; invitations = events * per_event),
--   token_users (users 1..token_users get the bearer token 'bench-token-<n>'),
--   patch_events (extra events whose invitations to the token users stay pending, for PATCH),
--   send_events (empty events owned by token users, for POST send-invitations),
--   ceiling_accepts, ceiling_sends (more of the same two, for pgbench's write ceilings:
--   bench/pgbench-accept.sql and bench/pgbench-send.sql; 0 for none).
-- Ids are UUIDv7-shaped, with a time prefix that grows with the row number, so that later rows
-- are newer, as in production. They are made as uuid and times as timestamptz (now()), which
-- PostgreSQL also stores into TEXT and TIMESTAMP columns (assignment casts), so one seed fills the
-- schema before and after the native types (2026-12-05-000002_native_types). The password hash of
-- every user is set by run.py afterwards.

\set ON_ERROR_STOP on

CREATE OR REPLACE FUNCTION pg_temp.bench_id(kind int, n bigint) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
  SELECT (substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7' || lpad(to_hex(kind), 3, '0')
         || '-8' || lpad(to_hex((n / 4096) % 4096), 3, '0') || '-' || lpad(to_hex(n % 281474976710656), 12, '0'))::uuid
  FROM (SELECT lpad(to_hex(1700000000000 + n * 10 + kind), 12, '0') AS h) AS t
$$;

-- users 1..:users
-- Every address proven, as after its owner entered the code (docs/api.md, "Proving contacts"):
-- invitations reach them instead of being held.
INSERT INTO users (id, name, email, mobile, password_hash, email_verified_at, created_at)
SELECT pg_temp.bench_id(1, n), 'User ' || n, 'user' || n || '@bench.test', NULL, 'unset', now(), now()
FROM generate_series(1, :users) AS n;

INSERT INTO access_tokens (token_hash, user_id, created_at, expires_at, revoked_at)
SELECT sha256(convert_to('bench-token-' || n, 'UTF8')), pg_temp.bench_id(1, n), now(), now() + interval '30 days', NULL
FROM generate_series(1, :token_users) AS n;

-- events 1..:events, event e owned by user e
INSERT INTO events (id, owner_id, title, description, location, starts_at, ends_at, members_count, created_at)
SELECT pg_temp.bench_id(2, e), pg_temp.bench_id(1, e), 'Event ' || e, NULL, NULL, NULL, NULL, 1, now()
FROM generate_series(1, :events) AS e;
INSERT INTO event_members (id, event_id, user_id, role, joined_at)
SELECT pg_temp.bench_id(3, e), pg_temp.bench_id(2, e), pg_temp.bench_id(1, e), 'owner', now()
FROM generate_series(1, :events) AS e;

-- invitation (e, j): from the owner of event e to user ((e + j) mod users) + 1, j in 1..per_event;
-- rows are numbered j-major so that ids (time) interleave events. 50 % accepted, 20 % rejected,
-- 30 % pending.
INSERT INTO invitations (id, event_id, sender_id, invitee_id, contact, status, created_at, answered_at)
SELECT pg_temp.bench_id(4, k), pg_temp.bench_id(2, e), pg_temp.bench_id(1, e), pg_temp.bench_id(1, ((e + j) % :users) + 1),
       'user' || (((e + j) % :users) + 1) || '@bench.test', s,
       now(), CASE WHEN s = 'pending' THEN NULL ELSE now() END
FROM (
  SELECT e, j, (j - 1) * :events + e AS k,
         CASE WHEN j % 10 < 5 THEN 'accepted' WHEN j % 10 < 7 THEN 'rejected' ELSE 'pending' END AS s
  FROM generate_series(1, :per_event) AS j, generate_series(1, :events) AS e
) AS plan;

INSERT INTO event_members (id, event_id, user_id, role, joined_at)
SELECT pg_temp.bench_id(5, k), event_id, invitee_id, 'member', now()
FROM (SELECT row_number() OVER () AS k, event_id, invitee_id FROM invitations WHERE status = 'accepted') AS accepted;
UPDATE events SET members_count = 1 + (SELECT count(*) FROM event_members m WHERE m.event_id = events.id AND m.role = 'member');

-- PATCH scenario: :patch_events events owned by the last user, each with a pending invitation to
-- every token user.
INSERT INTO events (id, owner_id, title, description, location, starts_at, ends_at, members_count, created_at)
SELECT pg_temp.bench_id(6, p), pg_temp.bench_id(1, :users), 'Patch ' || p, NULL, NULL, NULL, NULL, 1, now()
FROM generate_series(1, :patch_events + :ceiling_accepts) AS p;
INSERT INTO event_members (id, event_id, user_id, role, joined_at)
SELECT pg_temp.bench_id(7, p), pg_temp.bench_id(6, p), pg_temp.bench_id(1, :users), 'owner', now()
FROM generate_series(1, :patch_events + :ceiling_accepts) AS p;
INSERT INTO invitations (id, event_id, sender_id, invitee_id, contact, status, created_at, answered_at)
SELECT pg_temp.bench_id(8, p * 100000 + t), pg_temp.bench_id(6, p), pg_temp.bench_id(1, :users), pg_temp.bench_id(1, t),
       'user' || t || '@bench.test', 'pending', now(), NULL
FROM generate_series(1, :patch_events + :ceiling_accepts) AS p, generate_series(1, :token_users) AS t;

-- Send scenario: :send_events empty events, owned round-robin by the token users.
INSERT INTO events (id, owner_id, title, description, location, starts_at, ends_at, members_count, created_at)
SELECT pg_temp.bench_id(9, s), pg_temp.bench_id(1, ((s - 1) % :token_users) + 1), 'Send ' || s, NULL, NULL, NULL, NULL, 1, now()
FROM generate_series(1, :send_events + :ceiling_sends) AS s;
INSERT INTO event_members (id, event_id, user_id, role, joined_at)
SELECT pg_temp.bench_id(10, s), pg_temp.bench_id(9, s), pg_temp.bench_id(1, ((s - 1) % :token_users) + 1), 'owner', now()
FROM generate_series(1, :send_events + :ceiling_sends) AS s;

-- Files for the load scripts.
CREATE TABLE bench_patch AS
SELECT 'bench-token-' || t AS token, pg_temp.bench_id(8, p * 100000 + t) AS invitation_id
FROM generate_series(1, :patch_events) AS p, generate_series(1, :token_users) AS t
ORDER BY random();
CREATE TABLE bench_send AS
SELECT 'bench-token-' || (((s - 1) % :token_users) + 1) AS token, pg_temp.bench_id(9, s) AS event_id
FROM generate_series(1, :send_events) AS s
ORDER BY random();
-- For pgbench's write ceilings: row n of each, with what its statements need.
CREATE TABLE bench_accept AS
SELECT row_number() OVER (ORDER BY random()) AS n, i.id AS invitation_id, i.event_id, i.sender_id, i.invitee_id, i.contact, e.title,
       sender.name AS sender_name, invitee.name AS invitee_name
FROM generate_series(:patch_events + 1, :patch_events + :ceiling_accepts) AS p CROSS JOIN generate_series(1, :token_users) AS t
JOIN invitations i ON i.id = pg_temp.bench_id(8, p * 100000 + t)
JOIN events e ON e.id = i.event_id
JOIN users sender ON sender.id = i.sender_id
JOIN users invitee ON invitee.id = i.invitee_id;
CREATE UNIQUE INDEX ON bench_accept (n);
CREATE TABLE bench_send_ceiling AS
SELECT row_number() OVER (ORDER BY random()) AS n, e.id AS event_id, e.title, e.owner_id, u.name AS owner_name
FROM generate_series(:send_events + 1, :send_events + :ceiling_sends) AS s
JOIN events e ON e.id = pg_temp.bench_id(9, s)
JOIN users u ON u.id = e.owner_id;
CREATE UNIQUE INDEX ON bench_send_ceiling (n);

-- No ANALYZE here: bench/run.py vacuums and analyzes the tables this filled, and only those (a
-- table analyzed empty is planned as empty until analyzed again: docs/operations.md, "Autovacuum").
