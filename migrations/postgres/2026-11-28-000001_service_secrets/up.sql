-- Secrets every process on this database must share, such as the key list cursors are signed
-- with (docs/operations.md, "Cursor signing"). The first process to need one stores it
-- (Database::shared_secret: INSERT … ON CONFLICT DO NOTHING, then SELECT), so processes starting
-- together all read the same value. `value` is the secret's standard base64.
CREATE TABLE service_secrets (
    name       TEXT COLLATE "C" PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
