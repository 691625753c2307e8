-- The statements one POST /api/v1/{event_id}/send-invitations of 10 contacts (existing users, to an
-- event without invitations) sends, in order, with its bearer token in the token cache
-- (TOKEN_CACHE_SECS) as the bench's clients' are, for pgbench's write ceiling (bench/run.py,
-- "write ceilings"), as the bench's server runs: the day's caps off. The test
-- the_send_ceiling_runs_the_statements_a_ten_contact_send_sends (adapters-diesel) holds them
-- to what the service sends; when it fails it prints the statements to put here.
-- Run with -M prepared and -D i=0 -D clients=N -D rows=R -D users=U: each client sends to events
-- of its own from bench_send_ceiling (made by bench/seed.sql), one per transaction. The first
-- statement, marked "bench only", reads which event and contacts, and the values the service would
-- bind (from the request, its clock and its own code); pgbench cannot bind NULL, so a NULL the
-- service binds is written CAST(NULL AS type), and binds whose type PostgreSQL cannot infer from
-- the statement (the batch's VALUES) carry a cast, as the service's typed binds do. Each contact's
-- invitation id is made in the row that names it: an uncorrelated LATERAL (SELECT
-- gen_random_uuid()) is run once, and its one id for all ten rows let the batch insert one
-- invitation and skip nine as conflicts (which made this ceiling a send of one until 2026-12-07).
\set i :i + 1
\set n ((:client_id + (:i - 1) * :clients) % :rows) + 1
\set first 200 + ((:n * 7919) % (:users - 220))
\set one 1
-- bench only
WITH s AS (SELECT * FROM bench_send_ceiling WHERE n = :n),
     c AS (SELECT k, u.id, u.email, u.name, g.inv, s.owner_id || ' ' || u.id AS recipients,
                  json_build_object('subject', 'invitation', 'invitation', json_build_object('id', g.inv,
                    'event_id', s.event_id, 'sender_id', s.owner_id, 'invitee_id', u.id, 'contact', u.email,
                    'status', 'pending', 'created_at', replace((now() AT TIME ZONE 'UTC')::text, ' ', 'T'),
                    'answered_at', NULL, 'message', NULL,
                    'expires_at', replace(((now() + interval '7 days') AT TIME ZONE 'UTC')::text, ' ', 'T'), 'cancelled_at', NULL, 'last_resent_at', NULL),
                    'event_title', s.title, 'sender', json_build_array(s.owner_id, s.owner_name),
                    'invitee', json_build_array(u.id, u.name))::text AS subject
             FROM s, (SELECT k, gen_random_uuid() AS inv FROM generate_series(0, 9) AS k) AS g
             JOIN users u ON u.email = 'user' || (:first + g.k) || '@bench.test')
SELECT s.event_id AS ev, s.owner_id AS me, '{' || s.event_id || '}' AS evs,
       now() AS now, now() + interval '7 days' AS expires, '{}' AS none, 'pending' AS pending,
       'expired' AS expired, '{pending,tentative}' AS open, '{owner,cohost}' AS managers,
       'invitation.created' AS created_kind,
       (SELECT '{' || string_agg(email, ',' ORDER BY k) || '}' FROM c) AS emails,
       (SELECT '{' || string_agg(id::text, ',' ORDER BY k) || '}' FROM c) AS invitees,
       (SELECT '{' || string_agg(inv::text, ',' ORDER BY k) || '}' FROM c) AS invs,
       (SELECT id FROM c WHERE k = 0) AS u0, (SELECT email FROM c WHERE k = 0) AS c0, (SELECT inv FROM c WHERE k = 0) AS i0, (SELECT subject FROM c WHERE k = 0) AS s0, (SELECT recipients FROM c WHERE k = 0) AS r0,
       (SELECT id FROM c WHERE k = 1) AS u1, (SELECT email FROM c WHERE k = 1) AS c1, (SELECT inv FROM c WHERE k = 1) AS i1, (SELECT subject FROM c WHERE k = 1) AS s1, (SELECT recipients FROM c WHERE k = 1) AS r1,
       (SELECT id FROM c WHERE k = 2) AS u2, (SELECT email FROM c WHERE k = 2) AS c2, (SELECT inv FROM c WHERE k = 2) AS i2, (SELECT subject FROM c WHERE k = 2) AS s2, (SELECT recipients FROM c WHERE k = 2) AS r2,
       (SELECT id FROM c WHERE k = 3) AS u3, (SELECT email FROM c WHERE k = 3) AS c3, (SELECT inv FROM c WHERE k = 3) AS i3, (SELECT subject FROM c WHERE k = 3) AS s3, (SELECT recipients FROM c WHERE k = 3) AS r3,
       (SELECT id FROM c WHERE k = 4) AS u4, (SELECT email FROM c WHERE k = 4) AS c4, (SELECT inv FROM c WHERE k = 4) AS i4, (SELECT subject FROM c WHERE k = 4) AS s4, (SELECT recipients FROM c WHERE k = 4) AS r4,
       (SELECT id FROM c WHERE k = 5) AS u5, (SELECT email FROM c WHERE k = 5) AS c5, (SELECT inv FROM c WHERE k = 5) AS i5, (SELECT subject FROM c WHERE k = 5) AS s5, (SELECT recipients FROM c WHERE k = 5) AS r5,
       (SELECT id FROM c WHERE k = 6) AS u6, (SELECT email FROM c WHERE k = 6) AS c6, (SELECT inv FROM c WHERE k = 6) AS i6, (SELECT subject FROM c WHERE k = 6) AS s6, (SELECT recipients FROM c WHERE k = 6) AS r6,
       (SELECT id FROM c WHERE k = 7) AS u7, (SELECT email FROM c WHERE k = 7) AS c7, (SELECT inv FROM c WHERE k = 7) AS i7, (SELECT subject FROM c WHERE k = 7) AS s7, (SELECT recipients FROM c WHERE k = 7) AS r7,
       (SELECT id FROM c WHERE k = 8) AS u8, (SELECT email FROM c WHERE k = 8) AS c8, (SELECT inv FROM c WHERE k = 8) AS i8, (SELECT subject FROM c WHERE k = 8) AS s8, (SELECT recipients FROM c WHERE k = 8) AS r8,
       (SELECT id FROM c WHERE k = 9) AS u9, (SELECT email FROM c WHERE k = 9) AS c9, (SELECT inv FROM c WHERE k = 9) AS i9, (SELECT subject FROM c WHERE k = 9) AS s9, (SELECT recipients FROM c WHERE k = 9) AS r9
  FROM s \gset
SELECT "events"."id", "events"."owner_id", "events"."title", "events"."description",
"events"."location", "events"."starts_at", "events"."ends_at", "events"."members_count",
"events"."created_at", "events"."version", "events"."capacity", "events"."max_guests",
"events"."waitlist", "events"."rsvp_deadline", "events"."seats_taken", "events"."time_zone",
"events"."reminders", "users"."id", "users"."name", "event_members"."role" FROM (("events" INNER
JOIN "users" ON ("events"."owner_id" = "users"."id")) INNER JOIN "event_members" ON
(("event_members"."event_id" = "events"."id") AND ("event_members"."user_id" = :me))) WHERE
("events"."id" = :ev) LIMIT :one;
SELECT "users"."id", "users"."name", "users"."email", "users"."mobile", "users"."password_hash",
"users"."created_at", "users"."email_verified_at", "users"."mobile_verified_at",
"users"."pending_email", "users"."pending_mobile", "users"."locale" FROM "users" WHERE
(((("users"."email" = ANY(:emails)) OR ("users"."mobile" = ANY(:none))) OR ("users"."pending_email"
= ANY(:emails))) OR ("users"."pending_mobile" = ANY(:none)));
SELECT "event_members"."user_id" FROM "event_members" WHERE (("event_members"."event_id" = :ev) AND
("event_members"."user_id" = ANY(:invitees)));
SELECT "invitations"."invitee_id", "invitations"."id", "invitations"."status",
"invitations"."expires_at" FROM "invitations" WHERE (("invitations"."event_id" = :ev) AND
("invitations"."invitee_id" = ANY(:invitees)));
BEGIN;
SELECT "events"."id" FROM "events" WHERE ("events"."id" = ANY(:evs)) ORDER BY "events"."id" FOR
SHARE;
SELECT COUNT(*) FROM "event_members" WHERE ((("event_members"."user_id" = :me) AND
("event_members"."event_id" = ANY(:evs))) AND ("event_members"."role" = ANY(:managers)));
UPDATE "invitations" SET "status" = :expired WHERE (((("invitations"."event_id" = ANY(:evs)) AND
("invitations"."invitee_id" = ANY(:invitees))) AND ("invitations"."status" = ANY(:open))) AND
("invitations"."expires_at" <= :now)) RETURNING "invitations"."id";
WITH batch (id, event_id, sender_id, invitee_id, contact, status, created_at, message, expires_at,
held_contact) AS (VALUES (:i0::uuid, :ev::uuid, :me::uuid, :u0::uuid, :c0::text, :pending::text,
:now::timestamptz, CAST(NULL AS text), :expires::timestamptz, CAST(NULL AS text)), (:i1::uuid,
:ev::uuid, :me::uuid, :u1::uuid, :c1::text, :pending::text, :now::timestamptz, CAST(NULL AS text),
:expires::timestamptz, CAST(NULL AS text)), (:i2::uuid, :ev::uuid, :me::uuid, :u2::uuid, :c2::text,
:pending::text, :now::timestamptz, CAST(NULL AS text), :expires::timestamptz, CAST(NULL AS text)),
(:i3::uuid, :ev::uuid, :me::uuid, :u3::uuid, :c3::text, :pending::text, :now::timestamptz, CAST(NULL
AS text), :expires::timestamptz, CAST(NULL AS text)), (:i4::uuid, :ev::uuid, :me::uuid, :u4::uuid,
:c4::text, :pending::text, :now::timestamptz, CAST(NULL AS text), :expires::timestamptz, CAST(NULL
AS text)), (:i5::uuid, :ev::uuid, :me::uuid, :u5::uuid, :c5::text, :pending::text,
:now::timestamptz, CAST(NULL AS text), :expires::timestamptz, CAST(NULL AS text)), (:i6::uuid,
:ev::uuid, :me::uuid, :u6::uuid, :c6::text, :pending::text, :now::timestamptz, CAST(NULL AS text),
:expires::timestamptz, CAST(NULL AS text)), (:i7::uuid, :ev::uuid, :me::uuid, :u7::uuid, :c7::text,
:pending::text, :now::timestamptz, CAST(NULL AS text), :expires::timestamptz, CAST(NULL AS text)),
(:i8::uuid, :ev::uuid, :me::uuid, :u8::uuid, :c8::text, :pending::text, :now::timestamptz, CAST(NULL
AS text), :expires::timestamptz, CAST(NULL AS text)), (:i9::uuid, :ev::uuid, :me::uuid, :u9::uuid,
:c9::text, :pending::text, :now::timestamptz, CAST(NULL AS text), :expires::timestamptz, CAST(NULL
AS text))) INSERT INTO invitations (id, event_id, sender_id, invitee_id, contact, status,
created_at, message, expires_at, held_contact) SELECT b.id, b.event_id, b.sender_id, b.invitee_id,
b.contact, b.status, b.created_at, b.message, b.expires_at, b.held_contact FROM batch b WHERE NOT
EXISTS (SELECT 1 FROM event_members m WHERE m.event_id = b.event_id AND m.user_id = b.invitee_id)
AND COALESCE((SELECT i.status FROM invitations i WHERE i.event_id = b.event_id AND i.invitee_id =
b.invitee_id ORDER BY i.id DESC LIMIT 1), '') <> 'rejected' ORDER BY b.event_id, b.invitee_id ON
CONFLICT DO NOTHING RETURNING id;
SELECT "invitations"."id", "invitations"."event_id", "invitations"."sender_id",
"invitations"."invitee_id", "invitations"."contact", "invitations"."status",
"invitations"."created_at", "invitations"."answered_at", "invitations"."message",
"invitations"."expires_at", "invitations"."cancelled_at", "invitations"."last_resent_at",
"invitations"."version", "invitations"."held_contact", "invitations"."guests",
"invitations"."comment", "events"."title", "invitation_titles"."title", "sender"."id",
"sender"."name", "invitee"."id", "invitee"."name", EXISTS (SELECT "event_deletions"."event_id",
"event_deletions"."user_id", "event_deletions"."role", "event_deletions"."deleted_at" FROM
"event_deletions" WHERE ("event_deletions"."event_id" = "invitations"."event_id")), (SELECT
"event_deletions"."role" FROM "event_deletions" WHERE (("event_deletions"."event_id" =
"invitations"."event_id") AND ("event_deletions"."user_id" = "invitations"."sender_id")) LIMIT :one)
FROM (((("invitations" INNER JOIN "events" ON ("invitations"."event_id" = "events"."id")) LEFT OUTER
JOIN "invitation_titles" ON ("invitation_titles"."invitation_id" = "invitations"."id")) INNER JOIN
"users" AS "sender" ON ("sender"."id" = "invitations"."sender_id")) INNER JOIN "users" AS "invitee"
ON ("invitee"."id" = "invitations"."invitee_id")) WHERE ("invitations"."id" = ANY(:invs));
SELECT "event_members"."user_id" FROM "event_members" WHERE (("event_members"."event_id" = :ev) AND
("event_members"."role" = ANY(:managers)));
INSERT INTO changes_staged (kind, occurred_at, subject, recipients) VALUES (:created_kind, :now,
:s0, :r0), (:created_kind, :now, :s1, :r1), (:created_kind, :now, :s2, :r2), (:created_kind, :now,
:s3, :r3), (:created_kind, :now, :s4, :r4), (:created_kind, :now, :s5, :r5), (:created_kind, :now,
:s6, :r6), (:created_kind, :now, :s7, :r7), (:created_kind, :now, :s8, :r8), (:created_kind, :now,
:s9, :r9);
COMMIT;
