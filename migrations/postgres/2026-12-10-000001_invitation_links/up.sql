-- One-click links (docs/api.md, "Answering from a message"): the SHA-256 digest of each link's
-- token and the invitation it opens. Written with the email or text that carries the link; the
-- token itself is never stored. A link opens its invitation only while the invitation is open.
CREATE TABLE invitation_links (
    token_hash    BYTEA PRIMARY KEY,
    invitation_id uuid NOT NULL REFERENCES invitations (id) ON DELETE CASCADE,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX invitation_links_invitation_id ON invitation_links (invitation_id);
