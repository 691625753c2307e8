-- Every deleted event goes, with its invitations, as deleting did before.
DELETE FROM events WHERE id IN (SELECT event_id FROM event_deletions);
CREATE OR REPLACE FUNCTION event_members_keep_owner() RETURNS trigger LANGUAGE plpgsql AS $$
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
DROP TABLE event_deletions;
