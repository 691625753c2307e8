DROP INDEX access_tokens_revoked_at;
DROP INDEX access_tokens_expires_at;
