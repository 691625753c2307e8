-- The statements one PATCH /api/v1/invitations/{id} accepting an invitation sends, in order, with
-- its bearer token in the token cache (TOKEN_CACHE_SECS) as the bench's clients' are, for
-- pgbench's write ceiling (bench/run.py, "write ceilings").
-- The test the_accept_ceiling_runs_the_statements_an_accept_sends (adapters-diesel) holds them to
-- what the service sends; when it fails it prints the statements to put here.
-- Run with -M prepared and -D i=0 -D clients=N -D rows=R: each client answers invitations of its
-- own from bench_accept (made by bench/seed.sql), one per transaction. The first statement, marked
-- "bench only", reads which invitation and the values the service would bind (it gets them from
-- the URL, its clock and its own code); pgbench cannot bind NULL, so a NULL the service binds is
-- written CAST(NULL AS type).
\set i :i + 1
\set n ((:client_id + (:i - 1) * :clients) % :rows) + 1
\set one 1
\set zero 0
-- bench only
SELECT a.invitation_id AS inv, a.event_id AS ev, a.invitee_id AS me,
       '{' || a.event_id || '}' AS evs, '{' || a.invitation_id || '}' AS invs,
       now() AS now, gen_random_uuid() AS member, 'accepted' AS accepted, '{pending,tentative}' AS open,
       'waitlisted' AS waitlisted, 'member' AS member_role, '{owner,cohost}' AS managers,
       'invitation.accepted' AS accepted_kind, 'member.joined' AS joined_kind,
       a.sender_id || ' ' || a.invitee_id AS recipients,
       json_build_object('subject', 'invitation', 'invitation', json_build_object('id', a.invitation_id,
         'event_id', a.event_id, 'sender_id', a.sender_id, 'invitee_id', a.invitee_id, 'contact', a.contact,
         'status', 'accepted', 'created_at', replace((now() AT TIME ZONE 'UTC')::text, ' ', 'T'),
         'answered_at', replace((now() AT TIME ZONE 'UTC')::text, ' ', 'T'), 'message', NULL, 'expires_at', NULL,
         'cancelled_at', NULL, 'last_resent_at', NULL), 'event_title', a.title,
         'sender', json_build_array(a.sender_id, a.sender_name), 'invitee', json_build_array(a.invitee_id, a.invitee_name))::text
         AS accepted_subject,
       json_build_object('subject', 'member', 'event_id', a.event_id, 'event_title', a.title,
         'member', json_build_object('id', gen_random_uuid(), 'event_id', a.event_id, 'user_id', a.invitee_id,
         'role', 'member', 'joined_at', replace((now() AT TIME ZONE 'UTC')::text, ' ', 'T')), 'user', json_build_array(a.invitee_id, a.invitee_name))::text
         AS joined_subject
  FROM bench_accept a WHERE a.n = :n \gset

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
ON ("invitee"."id" = "invitations"."invitee_id")) WHERE ("invitations"."id" = :inv) LIMIT :one;
SELECT "events"."id", "events"."owner_id", "events"."title", "events"."description",
"events"."location", "events"."starts_at", "events"."ends_at", "events"."members_count",
"events"."created_at", "events"."version", "events"."capacity", "events"."max_guests",
"events"."waitlist", "events"."rsvp_deadline", "events"."seats_taken", "events"."time_zone",
"events"."reminders" FROM "events" WHERE ("events"."id" = :ev) LIMIT :one;
BEGIN;
SELECT "events"."id" FROM "events" WHERE ("events"."id" = ANY(:evs)) ORDER BY "events"."id" FOR NO
KEY UPDATE;
SELECT "events"."id", "events"."owner_id", "events"."title", "events"."description",
"events"."location", "events"."starts_at", "events"."ends_at", "events"."members_count",
"events"."created_at", "events"."version", "events"."capacity", "events"."max_guests",
"events"."waitlist", "events"."rsvp_deadline", "events"."seats_taken", "events"."time_zone",
"events"."reminders" FROM "events" WHERE ("events"."id" = :ev) LIMIT :one;
UPDATE "invitations" SET "status" = :accepted, "answered_at" = :now, "guests" = :zero, "comment" =
CAST(NULL AS text), "version" = ("invitations"."version" + :one) WHERE ((("invitations"."id" = :inv)
AND ("invitations"."status" = ANY(:open))) AND ((("invitations"."status" = :waitlisted) OR
("invitations"."expires_at" IS NULL)) OR ("invitations"."expires_at" > :now)));
INSERT INTO "event_members" ("id", "event_id", "user_id", "role", "joined_at", "guests") VALUES
(:member, :ev, :me, :member_role, :now, :zero) ON CONFLICT DO NOTHING;
UPDATE "events" SET "seats_taken" = ("events"."seats_taken" + :one), "members_count" =
("events"."members_count" + :one) WHERE ("events"."id" = :ev);
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
SELECT "event_members"."user_id" FROM "event_members" WHERE ("event_members"."event_id" = :ev);
INSERT INTO changes_staged (kind, occurred_at, subject, recipients) VALUES (:accepted_kind, :now,
:accepted_subject, :recipients), (:joined_kind, :now, :joined_subject, :recipients);
COMMIT;
