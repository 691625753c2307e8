-- The two lists and the bearer token's look-up as the service sends them, prepared, for the token
-- user 50, with their plans: the received list and the token's statement as in
-- bench/pgbench-read.sql (held to the service's SQL by a test), the sent list as the adapter builds
-- it for `sended-invitations?status=all` (adapters-diesel, invitations/queries.rs).
SELECT user_id AS uid FROM access_tokens WHERE token_hash = sha256(convert_to('bench-token-50', 'UTF8')) \gset
\echo '### received-invitations?status=pending'
PREPARE received(int, uuid, text, timestamptz, int) AS
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
"invitations"."event_id") AND ("event_deletions"."user_id" = "invitations"."sender_id")) LIMIT $1)
FROM (((("invitations" INNER JOIN "events" ON ("invitations"."event_id" = "events"."id")) LEFT OUTER
JOIN "invitation_titles" ON ("invitation_titles"."invitation_id" = "invitations"."id")) INNER JOIN
"users" AS "sender" ON ("sender"."id" = "invitations"."sender_id")) INNER JOIN "users" AS "invitee"
ON ("invitee"."id" = "invitations"."invitee_id")) WHERE (((("invitations"."invitee_id" = $2) AND
("invitations"."held_contact" IS NULL)) AND ("invitations"."status" = $3)) AND
(("invitations"."expires_at" IS NULL) OR ("invitations"."expires_at" > $4))) ORDER BY
"invitations"."id" DESC LIMIT $5;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE received(1, :'uid', 'pending', now(), 51);
\echo '### sended-invitations?status=all'
PREPARE sent(int, uuid, uuid, text[], uuid, int) AS
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
"invitations"."event_id") AND ("event_deletions"."user_id" = "invitations"."sender_id")) LIMIT $1)
FROM (((("invitations" INNER JOIN "events" ON ("invitations"."event_id" = "events"."id")) LEFT OUTER
JOIN "invitation_titles" ON ("invitation_titles"."invitation_id" = "invitations"."id")) INNER JOIN
"users" AS "sender" ON ("sender"."id" = "invitations"."sender_id")) INNER JOIN "users" AS "invitee"
ON ("invitee"."id" = "invitations"."invitee_id")) WHERE (("invitations"."sender_id" = $2) AND
(("invitations"."event_id" = ANY(SELECT "event_members"."event_id" FROM "event_members" WHERE
(("event_members"."user_id" = $3) AND ("event_members"."role" = ANY($4))))) OR
("invitations"."event_id" = ANY(SELECT "event_deletions"."event_id" FROM "event_deletions" WHERE
("event_deletions"."user_id" = $5))))) ORDER BY "invitations"."id" DESC LIMIT $6;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE sent(1, :'uid', :'uid', '{owner,cohost}', :'uid', 51);
\echo '### bearer token look-up'
PREPARE token(bytea, timestamptz, int) AS
SELECT "users"."id", "users"."name", "users"."email", "users"."mobile", "users"."password_hash",
"users"."created_at", "users"."email_verified_at", "users"."mobile_verified_at",
"users"."pending_email", "users"."pending_mobile", "users"."locale", "access_tokens"."expires_at"
FROM ("access_tokens" INNER JOIN "users" ON ("access_tokens"."user_id" = "users"."id")) WHERE
((("access_tokens"."token_hash" = $1) AND ("access_tokens"."revoked_at" IS NULL)) AND
("access_tokens"."expires_at" > $2)) LIMIT $3;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE token(sha256(convert_to('bench-token-50', 'UTF8')), now(), 1);
