-- The token purge (Database::purge_tokens) deletes tokens that expired, or were revoked, before a
-- moment: these let each of its batches find them without scanning every token.
CREATE INDEX access_tokens_expires_at ON access_tokens (expires_at);
CREATE INDEX access_tokens_revoked_at ON access_tokens (revoked_at) WHERE revoked_at IS NOT NULL;
