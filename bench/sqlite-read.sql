-- The statements one request of the read scenario (GET received-invitations?status=pending)
-- sends on SQLite when its bearer token is not in the token cache (TOKEN_CACHE_SECS): the token's
-- user, then the first page of the list (50 and one to tell whether there is more). The ceiling
-- bench/run.py holds the embedded default's read to: a minimal program (Python's sqlite3) runs them
-- on the same file. The test the_read_ceiling_runs_the_statements_a_read_sends_with_its_token_looked_up
-- (adapters-diesel, SQLite) holds them to what the service sends; when it fails it prints the
-- statements to put here.
-- Binds, in order: the token's SHA-256, now, 1; then 1, the user's id, the status, now, 51.
SELECT `users`.`id`, `users`.`name`, `users`.`email`, `users`.`mobile`, `users`.`password_hash`,
`users`.`created_at`, `users`.`email_verified_at`, `users`.`mobile_verified_at`,
`users`.`pending_email`, `users`.`pending_mobile`, `users`.`locale`, `access_tokens`.`expires_at`
FROM (`access_tokens` INNER JOIN `users` ON (`access_tokens`.`user_id` = `users`.`id`)) WHERE
(((`access_tokens`.`token_hash` = ?) AND (`access_tokens`.`revoked_at` IS NULL)) AND
(`access_tokens`.`expires_at` > ?)) LIMIT ?;
SELECT `invitations`.`id`, `invitations`.`event_id`, `invitations`.`sender_id`,
`invitations`.`invitee_id`, `invitations`.`contact`, `invitations`.`status`,
`invitations`.`created_at`, `invitations`.`answered_at`, `invitations`.`message`,
`invitations`.`expires_at`, `invitations`.`cancelled_at`, `invitations`.`last_resent_at`,
`invitations`.`version`, `invitations`.`held_contact`, `invitations`.`guests`,
`invitations`.`comment`, `events`.`title`, `invitation_titles`.`title`, `sender`.`id`,
`sender`.`name`, `invitee`.`id`, `invitee`.`name`, EXISTS (SELECT `event_deletions`.`event_id`,
`event_deletions`.`user_id`, `event_deletions`.`role`, `event_deletions`.`deleted_at` FROM
`event_deletions` WHERE (`event_deletions`.`event_id` = `invitations`.`event_id`)), (SELECT
`event_deletions`.`role` FROM `event_deletions` WHERE ((`event_deletions`.`event_id` =
`invitations`.`event_id`) AND (`event_deletions`.`user_id` = `invitations`.`sender_id`)) LIMIT ?)
FROM ((((`invitations` INNER JOIN `events` ON (`invitations`.`event_id` = `events`.`id`)) LEFT OUTER
JOIN `invitation_titles` ON (`invitation_titles`.`invitation_id` = `invitations`.`id`)) INNER JOIN
`users` AS `sender` ON (`sender`.`id` = `invitations`.`sender_id`)) INNER JOIN `users` AS `invitee`
ON (`invitee`.`id` = `invitations`.`invitee_id`)) WHERE ((((`invitations`.`invitee_id` = ?) AND
(`invitations`.`held_contact` IS NULL)) AND (`invitations`.`status` = ?)) AND
((`invitations`.`expires_at` IS NULL) OR (`invitations`.`expires_at` > ?))) ORDER BY
`invitations`.`id` DESC LIMIT ?;
