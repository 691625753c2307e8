-- Live-stream bench: every bearer-token user joins the event :'event_id' (created by bench/run.py
-- through the API, owned by token user 1), so that each change of the event (event.updated) goes
-- to all of them, and so to every stream the bench holds open.
\set ON_ERROR_STOP on

INSERT INTO event_members (id, event_id, user_id, role, joined_at)
SELECT gen_random_uuid(), :'event_id', t.user_id, 'member', now()
FROM (SELECT DISTINCT user_id FROM access_tokens) AS t
WHERE t.user_id NOT IN (SELECT user_id FROM event_members WHERE event_id = :'event_id');
UPDATE events SET members_count = (SELECT count(*) FROM event_members WHERE event_id = :'event_id')
WHERE id = :'event_id';
ANALYZE event_members;
