-- 15-audit-objects: the data objects' audit trigger, audit.capture_object()
-- (sql/0016_audit_capture_objects.sql), writes the events audit.capture()
-- wrote for them: one per change, with the same details, none when only
-- updated_at changes, none for objects removed with their org.  Run by
-- pg_prove as a superuser (no request context: the actor is 'db').
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT plan(14);

SELECT is((SELECT array_agg(c.relname::text || ':' || (t.tgargs IS NOT NULL)::text ORDER BY c.relname)
             FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid
            WHERE p.proname = 'capture_object' AND p.pronamespace = 'audit'::regnamespace),
    ARRAY['connections:true', 'destinations:true', 'integrations:true', 'sources:true'],
    'the four object tables carry audit.capture_object()');

INSERT INTO finicom.orgs (id, name) VALUES ('00000000-0000-4000-8000-0000000000a1', 'Objects audited');
CREATE TEMP TABLE o AS SELECT '00000000-0000-4000-8000-0000000000a1'::uuid AS org;

INSERT INTO finicom.sources (org_id, id, name, type, config)
VALUES ((SELECT org FROM o), '00000000-0000-4000-8000-0000000000b1', 'Src', 'postgres', '{"host": "a"}');
INSERT INTO finicom.destinations (org_id, id, name, type, config)
VALUES ((SELECT org FROM o), '00000000-0000-4000-8000-0000000000b2', 'Dst', 'bigquery', '{}');
INSERT INTO finicom.integrations (org_id, id, name, type, config)
VALUES ((SELECT org FROM o), '00000000-0000-4000-8000-0000000000b3', 'Int', 'slack', '{}');
INSERT INTO finicom.connections (org_id, id, name, source_id, destination_id)
VALUES ((SELECT org FROM o), '00000000-0000-4000-8000-0000000000b4', 'Conn',
        '00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-0000000000b2');

SELECT results_eq(
    $$SELECT action, target_type, target_id::text, details FROM audit.events
       WHERE org_id = (SELECT org FROM o) AND action LIKE '%.created' AND action <> 'org.created'
       ORDER BY target_id$$,
    $$VALUES ('source.created', 'source', '00000000-0000-4000-8000-0000000000b1', '{"name": "Src"}'::jsonb),
             ('destination.created', 'destination', '00000000-0000-4000-8000-0000000000b2', '{"name": "Dst"}'::jsonb),
             ('integration.created', 'integration', '00000000-0000-4000-8000-0000000000b3', '{"name": "Int"}'::jsonb),
             ('connection.created', 'connection', '00000000-0000-4000-8000-0000000000b4', '{"name": "Conn"}'::jsonb)$$,
    'one <kind>.created per object, naming it');
SELECT is((SELECT count(*) FROM audit.events WHERE org_id = (SELECT org FROM o) AND actor_type = 'db'), 5::bigint,
    'a superuser in psql is the db actor (org.created and four objects)');

-- An update: the changed field names only, never config values.
UPDATE finicom.sources SET name = 'Src 2', config = '{"host": "b", "password": "hunter2"}'
WHERE id = '00000000-0000-4000-8000-0000000000b1';
SELECT is((SELECT details FROM audit.events WHERE org_id = (SELECT org FROM o) AND action = 'source.updated'),
    '{"name": "Src 2", "changed": ["config", "name"]}'::jsonb, 'source.updated names the changed fields');
SELECT ok((SELECT details::text FROM audit.events WHERE org_id = (SELECT org FROM o) AND action = 'source.updated')
          NOT LIKE '%hunter2%', 'no config value in the event');
UPDATE finicom.connections SET enabled = false WHERE id = '00000000-0000-4000-8000-0000000000b4';
SELECT is((SELECT details -> 'changed' FROM audit.events
            WHERE org_id = (SELECT org FROM o) AND action = 'connection.updated'),
    '["enabled"]'::jsonb, 'connection.updated names enabled');

-- Nothing changed but updated_at: no event.
UPDATE finicom.destinations SET updated_at = updated_at + interval '1 second'
WHERE id = '00000000-0000-4000-8000-0000000000b2';
UPDATE finicom.integrations SET name = name WHERE id = '00000000-0000-4000-8000-0000000000b3';
SELECT is((SELECT count(*) FROM audit.events WHERE org_id = (SELECT org FROM o)
            AND action IN ('destination.updated', 'integration.updated')), 0::bigint,
    'an update that changes no audited field writes no event');

-- A delete names the object it removed.
DELETE FROM finicom.integrations WHERE id = '00000000-0000-4000-8000-0000000000b3';
SELECT is((SELECT action || ' ' || target_id || ' ' || (details ->> 'name') FROM audit.events
            WHERE org_id = (SELECT org FROM o) AND action LIKE '%.deleted'),
    'integration.deleted 00000000-0000-4000-8000-0000000000b3 Int', 'integration.deleted names it');
SELECT is((SELECT count(*) FROM audit.events WHERE org_id = (SELECT org FROM o)), 8::bigint,
    'eight events so far: org, four created, two updated, one deleted');

-- The org's deletion takes its objects with it: org.deleted is the only event it writes.
DELETE FROM finicom.orgs WHERE id = (SELECT org FROM o);
SELECT is((SELECT count(*) FROM audit.events WHERE org_id = (SELECT org FROM o)), 9::bigint,
    'deleting the org writes one event');
SELECT is((SELECT action FROM audit.events WHERE org_id = (SELECT org FROM o) ORDER BY at DESC, id DESC LIMIT 1),
    'org.deleted', '... org.deleted, no <kind>.deleted for the objects it took along');
SELECT is((SELECT count(*) FROM finicom.sources WHERE org_id = (SELECT org FROM o)), 0::bigint,
    'the objects are gone');

-- Not callable as a function, and not by the app.
SELECT ok(NOT has_function_privilege('finicom_app', 'audit.capture_object()', 'EXECUTE'),
    'finicom_app cannot execute audit.capture_object()');
SELECT is((SELECT prosecdef FROM pg_proc WHERE oid = 'audit.capture_object()'::regprocedure), true,
    'capture_object is SECURITY DEFINER (it writes audit.events for the app)');

SELECT * FROM finish();
ROLLBACK;
