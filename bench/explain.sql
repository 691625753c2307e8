-- The two list queries as the service issues them, for a sample user, with their plans.
SELECT id AS uid FROM users WHERE email = 'user50@bench.test' \gset
\echo '### received-invitations?status=pending'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT invitations.*, events.title, sender.id, sender.name, invitee.id, invitee.name
  FROM invitations
  INNER JOIN events ON invitations.event_id = events.id
  INNER JOIN users AS sender ON sender.id = invitations.sender_id
  INNER JOIN users AS invitee ON invitee.id = invitations.invitee_id
 WHERE invitations.invitee_id = :'uid' AND invitations.status = 'pending'
 ORDER BY invitations.id DESC LIMIT 51;
\echo '### sended-invitations?status=all'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT invitations.*, events.title, sender.id, sender.name, invitee.id, invitee.name
  FROM invitations
  INNER JOIN events ON invitations.event_id = events.id
  INNER JOIN users AS sender ON sender.id = invitations.sender_id
  INNER JOIN users AS invitee ON invitee.id = invitations.invitee_id
 WHERE invitations.sender_id = :'uid'
 ORDER BY invitations.id DESC LIMIT 51;
\echo '### bearer token look-up'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT users.* FROM access_tokens INNER JOIN users ON users.id = access_tokens.user_id
 WHERE access_tokens.token_hash = sha256(convert_to('bench-token-50', 'UTF8'))
   AND access_tokens.revoked_at IS NULL AND access_tokens.expires_at > now() LIMIT 1;
