-- Roles (docs/api.md, "Roles and members"): owner, cohost or member.
ALTER TABLE event_members DROP CONSTRAINT event_members_role_check;
ALTER TABLE event_members ADD CONSTRAINT event_members_role_check
    CHECK (role IN ('owner', 'cohost', 'member'));

-- Exactly one owner per event. At most one: this index. At least one: the event and its owner's
-- row are made in one transaction, and the trigger below refuses to delete the owner's row, or to
-- give it another role, while its event exists (deleting the event removes it with the event).
CREATE UNIQUE INDEX event_members_one_owner ON event_members (event_id) WHERE role = 'owner';

CREATE FUNCTION event_members_keep_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.role = 'owner' AND NEW.event_id = OLD.event_id AND NEW.user_id = OLD.user_id THEN
            RETURN NEW;
        END IF;
    ELSIF NOT EXISTS (SELECT 1 FROM events WHERE id = OLD.event_id) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'an event keeps its owner' USING ERRCODE = 'check_violation';
END;
$$;

CREATE TRIGGER event_members_keep_owner
    BEFORE UPDATE OR DELETE ON event_members
    FOR EACH ROW WHEN (OLD.role = 'owner')
    EXECUTE FUNCTION event_members_keep_owner();
