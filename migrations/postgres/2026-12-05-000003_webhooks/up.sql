-- Webhooks and their deliveries, and email to invitees (docs/api.md, "Webhooks" and "Email to
-- invitees"; docs/operations.md, "Webhook and email delivery").
--
-- A change's deliveries are made from the change feed, once: the one row of delivery_dispatch is
-- how far that has gone, and it moves (UPDATE ... WHERE position = <where the worker read>) in
-- the same transaction that stores the deliveries. A delivery is claimed for one attempt under a
-- lease (claim, lease_until), and its attempt is stored only while the claim holds.

CREATE TABLE webhooks (
    id              UUID PRIMARY KEY,
    owner_id        UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    url             TEXT NOT NULL,
    -- NULL: every kind of change; otherwise the kinds' names, separated by spaces.
    events          TEXT,
    -- whsec_ and the base64 of 32 random bytes: the HMAC key, so kept as it is.
    secret          TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    -- The last change numbered when it was registered: it receives the ones after.
    starts_after    BIGINT NOT NULL,
    -- When its current run of failed attempts began (NULL after a success).
    failing_since   TIMESTAMPTZ,
    disabled_at     TIMESTAMPTZ,
    disabled_reason TEXT,
    CONSTRAINT webhooks_url_length CHECK (char_length(url) BETWEEN 1 AND 2048),
    CONSTRAINT webhooks_events_listed CHECK (events IS NULL OR events <> ''),
    CONSTRAINT webhooks_secret_form CHECK (secret LIKE 'whsec\_%'),
    CONSTRAINT webhooks_disabled_reason CHECK (disabled_reason IN ('gone', 'failing')),
    CONSTRAINT webhooks_disabled_with_reason CHECK ((disabled_at IS NULL) = (disabled_reason IS NULL))
);
-- An owner's list, newest first; and the dispatcher's look-up of the recipients' webhooks.
CREATE INDEX webhooks_owner ON webhooks (owner_id, id);

CREATE TABLE delivery_dispatch (
    id       SMALLINT PRIMARY KEY,
    position BIGINT NOT NULL,
    CONSTRAINT delivery_dispatch_one_row CHECK (id = 1),
    CONSTRAINT delivery_dispatch_position CHECK (position >= 0)
);
-- Changes made before webhooks existed are nobody's deliveries.
INSERT INTO delivery_dispatch (id, position) SELECT 1, last_id FROM domain_event_sequence;

CREATE TABLE deliveries (
    id          UUID PRIMARY KEY,
    change_id   BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    -- Exactly one target: a webhook, or an email address.
    webhook_id  UUID REFERENCES webhooks (id) ON DELETE CASCADE,
    email_to    TEXT,
    -- What every attempt sends: the change's JSON (webhooks), or the composed message (email).
    payload     TEXT NOT NULL,
    state       TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    -- When the next attempt is due; set while pending only.
    due_at      TIMESTAMPTZ,
    -- The claim of the worker attempting it, until when it holds.
    claim       UUID,
    lease_until TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT deliveries_one_target CHECK ((webhook_id IS NULL) <> (email_to IS NULL)),
    CONSTRAINT deliveries_state CHECK (state IN ('pending', 'delivered', 'failed')),
    CONSTRAINT deliveries_due_iff_pending CHECK ((state = 'pending') = (due_at IS NOT NULL)),
    CONSTRAINT deliveries_claim_with_lease CHECK ((claim IS NULL) = (lease_until IS NULL)),
    CONSTRAINT deliveries_attempts CHECK (attempts >= 0)
);
-- One delivery per change and target.
CREATE UNIQUE INDEX deliveries_webhook_change ON deliveries (webhook_id, change_id)
    WHERE webhook_id IS NOT NULL;
CREATE UNIQUE INDEX deliveries_email_change ON deliveries (email_to, change_id)
    WHERE email_to IS NOT NULL;
-- The claim's scan: pending deliveries, oldest due first.
CREATE INDEX deliveries_due ON deliveries (due_at, id) WHERE state = 'pending';
-- Deliveries in flight, counted per target.
CREATE INDEX deliveries_claimed ON deliveries (lease_until) WHERE claim IS NOT NULL;
-- The purge of finished ones.
CREATE INDEX deliveries_finished ON deliveries (created_at) WHERE state <> 'pending';

CREATE TABLE delivery_attempts (
    id            UUID PRIMARY KEY,
    delivery_id   UUID NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    -- The delivery's webhook (NULL for email), for the webhook's list of attempts.
    webhook_id    UUID REFERENCES webhooks (id) ON DELETE CASCADE,
    change_id     BIGINT NOT NULL,
    kind          TEXT NOT NULL,
    number        INTEGER NOT NULL,
    attempted_at  TIMESTAMPTZ NOT NULL,
    duration_ms   INTEGER NOT NULL,
    status_code   INTEGER,
    error         TEXT,
    response_body TEXT,
    -- What was decided after it: delivered, retry (at retry_at), gave_up, disabled.
    verdict       TEXT NOT NULL,
    retry_at      TIMESTAMPTZ,
    disabled_reason TEXT,
    CONSTRAINT delivery_attempts_number CHECK (number >= 1),
    CONSTRAINT delivery_attempts_duration CHECK (duration_ms >= 0),
    CONSTRAINT delivery_attempts_status CHECK (status_code BETWEEN 100 AND 599),
    CONSTRAINT delivery_attempts_body CHECK (char_length(response_body) <= 1024),
    CONSTRAINT delivery_attempts_verdict CHECK (verdict IN ('delivered', 'retry', 'gave_up', 'disabled')),
    CONSTRAINT delivery_attempts_retry_at CHECK ((verdict = 'retry') = (retry_at IS NOT NULL)),
    CONSTRAINT delivery_attempts_disabled CHECK ((verdict = 'disabled') = (disabled_reason IS NOT NULL)),
    CONSTRAINT delivery_attempts_disabled_reason CHECK (disabled_reason IN ('gone', 'failing'))
);
-- A webhook's attempts, newest first.
CREATE INDEX delivery_attempts_webhook ON delivery_attempts (webhook_id, id);
-- The cascade from deliveries.
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id);
