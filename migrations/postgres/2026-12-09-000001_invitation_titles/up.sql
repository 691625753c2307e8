-- The event's title as an invitation's invitee last saw it: written when the event's title changes
-- after the invitee lost access (a dead invitation and no membership); absent while the title they
-- see is the event's current one (docs/api.md, "Invitation lifecycle").
CREATE TABLE invitation_titles (
    invitation_id uuid PRIMARY KEY REFERENCES invitations (id) ON DELETE CASCADE,
    title         TEXT NOT NULL
);
