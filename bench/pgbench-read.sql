-- The statements one request of the read scenario (GET received-invitations?status=pending)
-- sends when its bearer token is not in the token cache (TOKEN_CACHE_SECS): the token's user,
-- then the first page of the list (50 and one to tell whether there is more). The ceiling the read
-- is held to; the service, which finds the bench's tokens in its cache, sends the second only.
-- The test the_read_ceiling_runs_the_statements_a_read_sends_with_its_token_looked_up
-- (adapters-diesel) holds them to what the service sends; when it fails it prints the statements
-- to put here. A value the service binds and pgbench computes is marked /* bind */.
-- Run with -M prepared, -D tokens=N (the token users) and -D status=pending.
\set n random(1, :tokens)
\set one 1
\set limit 51
SELECT "users"."id", "users"."name", "users"."email", "users"."mobile", "users"."password_hash",
"users"."created_at", "users"."email_verified_at", "users"."mobile_verified_at",
"users"."pending_email", "users"."pending_mobile", "users"."locale", "access_tokens"."expires_at"
FROM ("access_tokens" INNER JOIN "users" ON ("access_tokens"."user_id" = "users"."id")) WHERE
((("access_tokens"."token_hash" = /* bind */ sha256(convert_to('bench-token-' || :n, 'UTF8'))) AND
("access_tokens"."revoked_at" IS NULL)) AND ("access_tokens"."expires_at" > /* bind */ now())) LIMIT
:one \gset
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
ON ("invitee"."id" = "invitations"."invitee_id")) WHERE (((("invitations"."invitee_id" = :id) AND
("invitations"."held_contact" IS NULL)) AND ("invitations"."status" = :status)) AND
(("invitations"."expires_at" IS NULL) OR ("invitations"."expires_at" > /* bind */ now()))) ORDER BY
"invitations"."id" DESC LIMIT :limit;
