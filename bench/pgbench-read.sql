-- The SQL one request of the read scenario issues (GET received-invitations?status=pending):
-- the bearer token's user, then the first page of the list. Run with -M prepared.
\set n random(1, :tokens)
SELECT users.id AS uid, users.name, users.email, users.mobile, users.password_hash, users.created_at
  FROM access_tokens INNER JOIN users ON users.id = access_tokens.user_id
 WHERE access_tokens.token_hash = sha256(convert_to('bench-token-' || :n, 'UTF8'))
   AND access_tokens.revoked_at IS NULL AND access_tokens.expires_at > now()
 LIMIT 1 \gset
SELECT invitations.id, invitations.event_id, invitations.sender_id, invitations.invitee_id,
       invitations.contact, invitations.status, invitations.created_at, invitations.answered_at,
       events.title, sender.id, sender.name, invitee.id, invitee.name
  FROM invitations
  INNER JOIN events ON invitations.event_id = events.id
  INNER JOIN users AS sender ON sender.id = invitations.sender_id
  INNER JOIN users AS invitee ON invitee.id = invitations.invitee_id
 WHERE invitations.invitee_id = :uid AND invitations.status = 'pending'
 ORDER BY invitations.id DESC
 LIMIT 51;
