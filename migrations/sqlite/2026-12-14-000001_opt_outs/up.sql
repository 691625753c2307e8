-- Opt-outs from invitation messages (docs/api.md, "Stopping invitation messages"): a contact
-- (normalized: an email lowercased, a mobile in E.164) stops the messages of one sender
-- (`scope` = the sender's id) or of everyone (`scope` = 'everyone'). One row per contact and
-- scope; the dispatcher reads a batch's contacts through the key's leading column.
CREATE TABLE opt_outs (
    contact    TEXT NOT NULL CONSTRAINT opt_outs_contact_length CHECK (length(contact) BETWEEN 1 AND 254),
    scope      TEXT NOT NULL CONSTRAINT opt_outs_scope_form
        CHECK (scope = 'everyone' OR (length(scope) = 36 AND scope NOT GLOB '*[^0-9a-f-]*')),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (contact, scope)
);
