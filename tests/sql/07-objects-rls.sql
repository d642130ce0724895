-- 07-objects-rls: the row-level security matrix of the data objects
-- (sql/0008_objects.sql, issue 6 "Tests"): sources, integrations,
-- destinations, connections, connection_integrations, sync_runs; the
-- composite foreign keys that keep references inside one org, for a
-- superuser too; and the helpers object_delete (in_use), sync_request
-- (plan_required) and connection_refs_check (validation_failed).
--
-- Words:
--   fixtures   users, orgs, API keys and objects made here as the superuser,
--              named in the temp table fx
--   O1         a = admin, w = write, r = read; kw = a write API key,
--              kr = a read API key
--   O2         x = admin: "the other org"
--   O3         a = admin too: an org a administers besides O1
--   objects    per org n (1, 2, 3): sN, dN, iN a source, destination and
--              integration used by connection cN (which has run runN);
--              sNx, dNx, iNx unused ones (deletable)
--   attempt()  runs one statement as finicom_app with a request context in
--              a subtransaction that is always rolled back, and says what
--              happened: 'rows N' (rows returned or changed) or
--              'SQLSTATE xxxxx'.  Every case starts from the same fixtures.
-- Run by pg_prove as a superuser.
CREATE EXTENSION IF NOT EXISTS pgtap;

BEGIN;

CREATE TEMP TABLE fx (name text PRIMARY KEY, id uuid NOT NULL DEFAULT gen_random_uuid(), actor_type text);
INSERT INTO fx (name, actor_type) VALUES ('a', 'user'), ('w', 'user'), ('r', 'user'), ('x', 'user'),
    ('kw', 'api_key'), ('kr', 'api_key');
INSERT INTO fx (name)
SELECT p || n || s FROM unnest(ARRAY['o', 's', 'd', 'i', 'c', 'run']) p, generate_series(1, 3) n,
    unnest(ARRAY['', 'x']) s
WHERE s = '' OR p IN ('s', 'd', 'i');

INSERT INTO finicom.users (id, email, name, password_hash)
SELECT id, name || '-' || id || '@objects-rls.test', upper(name), '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA'
FROM fx WHERE actor_type = 'user';
INSERT INTO finicom.orgs (id, name, plan) SELECT id, 'objects-rls ' || name, 'pro' FROM fx WHERE name ~ '^o\d$';
INSERT INTO finicom.memberships (org_id, user_id, role)
SELECT o.id, u.id, m.role::finicom.role
FROM (VALUES ('o1', 'a', 'admin'), ('o1', 'w', 'write'), ('o1', 'r', 'read'), ('o2', 'x', 'admin'),
             ('o3', 'a', 'admin')) m (org, usr, role)
JOIN fx o ON o.name = m.org JOIN fx u ON u.name = m.usr;
INSERT INTO finicom.api_keys (org_id, id, name, role, prefix, token_hash)
SELECT (SELECT id FROM fx WHERE name = 'o1'), k.id, k.name, CASE k.name WHEN 'kw' THEN 'write' ELSE 'read' END::finicom.role,
       'fcm_' || substr(md5(k.name), 1, 6), sha256(convert_to(k.id::text, 'UTF8'))
FROM fx k WHERE k.actor_type = 'api_key';

CREATE FUNCTION pg_temp.fx(p_name text) RETURNS uuid LANGUAGE sql AS $$ SELECT id FROM fx WHERE name = p_name $$;

DO $$
DECLARE
    n integer;
BEGIN
    FOR n IN 1..3 LOOP
        INSERT INTO finicom.sources (org_id, id, name, type)
        VALUES (pg_temp.fx('o' || n), pg_temp.fx('s' || n), 'source ' || n, 'postgres'),
               (pg_temp.fx('o' || n), pg_temp.fx('s' || n || 'x'), 'unused source ' || n, 'postgres');
        INSERT INTO finicom.destinations (org_id, id, name, type)
        VALUES (pg_temp.fx('o' || n), pg_temp.fx('d' || n), 'destination ' || n, 's3'),
               (pg_temp.fx('o' || n), pg_temp.fx('d' || n || 'x'), 'unused destination ' || n, 's3');
        INSERT INTO finicom.integrations (org_id, id, name, type)
        VALUES (pg_temp.fx('o' || n), pg_temp.fx('i' || n), 'integration ' || n, 'slack'),
               (pg_temp.fx('o' || n), pg_temp.fx('i' || n || 'x'), 'unused integration ' || n, 'slack');
        INSERT INTO finicom.connections (org_id, id, name, source_id, destination_id)
        VALUES (pg_temp.fx('o' || n), pg_temp.fx('c' || n), 'connection ' || n, pg_temp.fx('s' || n),
                pg_temp.fx('d' || n));
        INSERT INTO finicom.connection_integrations (org_id, connection_id, integration_id)
        VALUES (pg_temp.fx('o' || n), pg_temp.fx('c' || n), pg_temp.fx('i' || n));
        INSERT INTO finicom.sync_runs (org_id, id, connection_id)
        VALUES (pg_temp.fx('o' || n), pg_temp.fx('run' || n), pg_temp.fx('c' || n));
    END LOOP;
END
$$;

-- {name} in a statement becomes the fixture's id.
CREATE FUNCTION pg_temp.sub(p_sql text) RETURNS text
    LANGUAGE plpgsql AS $$
    DECLARE
        f record;
    BEGIN
        FOR f IN SELECT name, id FROM fx ORDER BY length(name) DESC LOOP
            p_sql := replace(p_sql, '{' || f.name || '}', f.id::text);
        END LOOP;
        RETURN p_sql;
    END
    $$;

-- Run p_sql as finicom_app; p_actor: a fixture name (a user or an API
-- key), 'none' (every setting RESET) or 'empty' (every setting '');
-- p_org: the org of the request, a fixture name or NULL.
CREATE FUNCTION pg_temp.attempt(p_actor text, p_org text, p_sql text) RETURNS text
    LANGUAGE plpgsql AS $$
    DECLARE
        v_sql text := pg_temp.sub(p_sql);
        v_actor fx%ROWTYPE;
        v_org text := coalesce((SELECT id::text FROM fx WHERE name = p_org), '');
        v_rows bigint;
        v_outcome text;
    BEGIN
        SELECT * INTO v_actor FROM fx WHERE name = p_actor;
        BEGIN
            SET LOCAL ROLE finicom_app;
            IF p_actor = 'none' THEN
                RESET ROLE; -- only finicom_owner and superusers may touch the context
                RESET finicom.actor_type;
                RESET finicom.actor_id;
                RESET finicom.org_id;
                SET LOCAL ROLE finicom_app;
            ELSIF p_actor = 'empty' THEN
                RESET ROLE;
                PERFORM set_config('finicom.actor_type', '', true), set_config('finicom.actor_id', '', true),
                        set_config('finicom.org_id', '', true);
                SET LOCAL ROLE finicom_app;
            ELSE
                RESET ROLE;
                PERFORM finicom.context_enter(v_actor.actor_type, v_actor.id, nullif(v_org, '')::uuid, NULL, NULL);
                SET LOCAL ROLE finicom_app;
            END IF;
            EXECUTE v_sql;
            GET DIAGNOSTICS v_rows = ROW_COUNT;
            RAISE EXCEPTION USING ERRCODE = 'PT001', MESSAGE = 'rows ' || v_rows;
        EXCEPTION WHEN OTHERS THEN
            v_outcome := CASE WHEN SQLSTATE = 'PT001' THEN SQLERRM ELSE 'SQLSTATE ' || SQLSTATE END;
        END;
        RETURN v_outcome;
    END
    $$;

-- ---------------------------------------------------------------------
-- The statements: per table, each command on the actor's org (O1) and on
-- the other org (O2).  'writer' is what write and admin get; 'reader' what
-- read gets; the other org gives nothing to anyone.
CREATE TEMP TABLE cmd (k serial, tbl text, what text, sql text, writer text, reader text);
INSERT INTO cmd (tbl, what, sql, writer, reader)
SELECT t.tbl, c.what, format(c.sql, t.tbl, t.ins1, t.ins2, t.upd, t.del1, t.del2), c.writer,
       coalesce(CASE c.what WHEN 'SELECT same org' THEN c.writer END, c.reader)
FROM (VALUES
    ('sources', $$(org_id, name, type) VALUES ('{o1}', 'new', 'pg')$$,
     $$(org_id, name, type) VALUES ('{o2}', 'new', 'pg')$$, $$name = 'renamed'$$,
     $$id = '{s1x}'$$, $$id = '{s2x}'$$),
    ('integrations', $$(org_id, name, type) VALUES ('{o1}', 'new', 'pg')$$,
     $$(org_id, name, type) VALUES ('{o2}', 'new', 'pg')$$, $$name = 'renamed'$$,
     $$id = '{i1x}'$$, $$id = '{i2x}'$$),
    ('destinations', $$(org_id, name, type) VALUES ('{o1}', 'new', 'pg')$$,
     $$(org_id, name, type) VALUES ('{o2}', 'new', 'pg')$$, $$name = 'renamed'$$,
     $$id = '{d1x}'$$, $$id = '{d2x}'$$),
    ('connections', $$(org_id, name, source_id, destination_id) VALUES ('{o1}', 'new', '{s1x}', '{d1x}')$$,
     $$(org_id, name, source_id, destination_id) VALUES ('{o2}', 'new', '{s2x}', '{d2x}')$$,
     $$enabled = false$$, $$id = '{c1}'$$, $$id = '{c2}'$$),
    ('connection_integrations', $$VALUES ('{o1}', '{c1}', '{i1x}')$$, $$VALUES ('{o2}', '{c2}', '{i2x}')$$,
     $$integration_id = integration_id$$, $$connection_id = '{c1}'$$, $$connection_id = '{c2}'$$),
    ('sync_runs', $$(org_id, connection_id) VALUES ('{o1}', '{c1}')$$,
     $$(org_id, connection_id) VALUES ('{o2}', '{c2}')$$, $$status = 'running'$$,
     $$id = '{run1}'$$, $$id = '{run2}'$$)
) AS t (tbl, ins1, ins2, upd, del1, del2)
CROSS JOIN (VALUES
    (1, 'SELECT same org', $$SELECT 1 FROM finicom.%1$s WHERE org_id = '{o1}'$$, NULL, NULL),
    (2, 'SELECT other org', $$SELECT 1 FROM finicom.%1$s WHERE org_id = '{o2}'$$, 'rows 0', 'rows 0'),
    (3, 'INSERT same org', $$INSERT INTO finicom.%1$s %2$s$$, 'rows 1', 'SQLSTATE 42501'),
    (4, 'INSERT other org', $$INSERT INTO finicom.%1$s %3$s$$, 'SQLSTATE 42501', 'SQLSTATE 42501'),
    (5, 'UPDATE same org', $$UPDATE finicom.%1$s SET %4$s WHERE org_id = '{o1}'$$, NULL, 'rows 0'),
    (6, 'UPDATE other org', $$UPDATE finicom.%1$s SET %4$s WHERE org_id = '{o2}'$$, 'rows 0', 'rows 0'),
    (7, 'DELETE same org', $$DELETE FROM finicom.%1$s WHERE %5$s$$, 'rows 1', 'rows 0'),
    (8, 'DELETE other org', $$DELETE FROM finicom.%1$s WHERE %6$s$$, 'rows 0', 'rows 0')
) AS c (n, what, sql, writer, reader)
ORDER BY t.tbl, c.n;
-- What O1 holds: sources, integrations, destinations 2 rows; the others 1.
UPDATE cmd SET writer = CASE WHEN tbl IN ('sources', 'integrations', 'destinations') THEN 'rows 2' ELSE 'rows 1' END
WHERE what IN ('SELECT same org', 'UPDATE same org');
UPDATE cmd SET reader = writer WHERE what = 'SELECT same org';
-- The links of a connection are inserted and deleted, never updated:
-- finicom_app has no UPDATE privilege on them at all.
UPDATE cmd SET writer = 'SQLSTATE 42501', reader = 'SQLSTATE 42501'
WHERE tbl = 'connection_integrations' AND what LIKE 'UPDATE%';

CREATE TEMP TABLE matrix (n serial, actor text, org text, sql text, expected text, what text);
INSERT INTO matrix (actor, org, sql, expected, what)
SELECT who.actor, 'o1', cmd.sql, CASE WHEN who.writes THEN cmd.writer ELSE cmd.reader END,
       who.label || ': ' || cmd.tbl || ', ' || cmd.what || ' -> ' || CASE WHEN who.writes THEN cmd.writer ELSE cmd.reader END
FROM (VALUES (1, 'a', 'admin', true), (2, 'w', 'write', true), (3, 'r', 'read', false),
             (4, 'kw', 'write API key', true), (5, 'kr', 'read API key', false)) AS who (k, actor, label, writes)
CROSS JOIN cmd
ORDER BY who.k, cmd.k;

-- No context and an empty-string context: nothing visible, nothing changes.
INSERT INTO matrix (actor, org, sql, expected, what)
SELECT ctx.actor, NULL, cmd.sql,
       CASE WHEN cmd.what LIKE 'INSERT%' OR (cmd.tbl = 'connection_integrations' AND cmd.what LIKE 'UPDATE%')
            THEN 'SQLSTATE 42501' ELSE 'rows 0' END,
       ctx.label || ': ' || cmd.tbl || ', ' || cmd.what || ' does nothing'
FROM (VALUES (1, 'none', 'no context'), (2, 'empty', 'empty-string context')) AS ctx (k, actor, label)
CROSS JOIN cmd
WHERE cmd.what LIKE '% same org'
ORDER BY ctx.k, cmd.k;

INSERT INTO matrix (actor, org, sql, expected, what) VALUES
    -- Everything is scoped to the org of the request: a's request about O1
    -- can neither read nor touch O3, which a also administers.
    ('a', 'o1', $$SELECT 1 FROM finicom.sources WHERE org_id = '{o3}'$$, 'rows 0',
     'admin of O1 and O3, request about O1: SELECT sources of O3 sees nothing'),
    ('a', 'o1', $$INSERT INTO finicom.sources (org_id, name, type) VALUES ('{o3}', 'new', 'pg')$$,
     'SQLSTATE 42501', 'admin of O1 and O3, request about O1: INSERT a source of O3 is refused'),
    ('a', 'o1', $$UPDATE finicom.connections SET enabled = false WHERE org_id = '{o3}'$$, 'rows 0',
     'admin of O1 and O3, request about O1: UPDATE a connection of O3 changes nothing'),
    ('a', 'o1', $$DELETE FROM finicom.sync_runs WHERE org_id = '{o3}'$$, 'rows 0',
     'admin of O1 and O3, request about O1: DELETE runs of O3 deletes nothing'),
    ('a', 'o3', $$UPDATE finicom.connections SET enabled = false WHERE org_id = '{o3}'$$, 'rows 1',
     'admin of O3, request about O3: UPDATE a connection of O3 works'),
    -- A request without an org writes nothing, even for an admin.
    ('a', NULL, $$UPDATE finicom.sources SET name = 'renamed' WHERE org_id = '{o1}'$$, 'rows 0',
     'admin, request without an org: UPDATE sources changes nothing'),
    -- An API key acts only in its own org.
    ('kw', 'o2', $$SELECT 1 FROM finicom.sources WHERE org_id = '{o2}'$$, 'rows 0',
     'write API key of O1, request about O2: SELECT sources of O2 sees nothing'),
    ('kw', 'o2', $$INSERT INTO finicom.sources (org_id, name, type) VALUES ('{o2}', 'new', 'pg')$$,
     'SQLSTATE 42501', 'write API key of O1, request about O2: INSERT a source of O2 is refused'),
    -- Rows cannot be moved to another org (no privilege on org_id).
    ('a', 'o1', $$UPDATE finicom.sources SET org_id = '{o3}' WHERE id = '{s1x}'$$, 'SQLSTATE 42501',
     'admin of O1 and O3: moving a source to O3 is refused'),
    ('a', 'o1', $$UPDATE finicom.sync_runs SET connection_id = '{c3}' WHERE id = '{run1}'$$, 'SQLSTATE 42501',
     'admin: a run cannot be moved to another connection');

SELECT plan((SELECT count(*)::int FROM matrix) + 22);

SELECT is(pg_temp.attempt(actor, org, sql), expected, what) FROM matrix ORDER BY n;

-- ---------------------------------------------------------------------
-- Composite foreign keys: no reference crosses orgs, even for a superuser
-- (who skips row-level security but not foreign keys).
SELECT throws_ok(pg_temp.sub($$INSERT INTO finicom.connections (org_id, name, source_id, destination_id)
                              VALUES ('{o1}', 'x', '{s2}', '{d1}')$$),
                 '23503', NULL, 'superuser: a connection of O1 cannot use a source of O2');
SELECT throws_ok(pg_temp.sub($$INSERT INTO finicom.connections (org_id, name, source_id, destination_id)
                              VALUES ('{o1}', 'x', '{s1}', '{d2}')$$),
                 '23503', NULL, 'superuser: a connection of O1 cannot use a destination of O2');
SELECT throws_ok(pg_temp.sub($$INSERT INTO finicom.connection_integrations VALUES ('{o1}', '{c1}', '{i2}')$$),
                 '23503', NULL, 'superuser: a connection of O1 cannot use an integration of O2');
SELECT throws_ok(pg_temp.sub($$INSERT INTO finicom.connection_integrations VALUES ('{o2}', '{c1}', '{i2}')$$),
                 '23503', NULL, 'superuser: a link of O2 cannot name a connection of O1');
SELECT throws_ok(pg_temp.sub($$INSERT INTO finicom.sync_runs (org_id, connection_id) VALUES ('{o2}', '{c1}')$$),
                 '23503', NULL, 'superuser: a run of O2 cannot name a connection of O1');
SELECT throws_ok(pg_temp.sub($$UPDATE finicom.connections SET org_id = '{o2}' WHERE id = '{c1}'$$),
                 '23503', NULL, 'superuser: a connection cannot move to O2 (its source stays in O1)');
SELECT throws_ok(pg_temp.sub($$UPDATE finicom.sources SET org_id = '{o2}' WHERE id = '{s1}'$$),
                 '23503', NULL, 'superuser: a source in use cannot move to O2');
SELECT throws_ok(pg_temp.sub($$DELETE FROM finicom.sources WHERE id = '{s1}'$$),
                 '23503', NULL, 'superuser: a source in use cannot be deleted');
SELECT throws_ok(pg_temp.sub($$INSERT INTO finicom.connections (org_id, name, source_id, destination_id, schedule)
                              VALUES ('{o1}', 'x', '{s1}', '{d1}', 'every 4 minutes')$$),
                 '23514', NULL, 'the schedule is checked by the table too');
SELECT is(ARRAY[finicom.schedule_ok('manual'), finicom.schedule_ok('every 5 minutes'),
                finicom.schedule_ok('every 1440 minutes'), finicom.schedule_ok('every 1441 minutes'),
                finicom.schedule_ok('every 05 minutes'), finicom.schedule_ok('hourly'),
                finicom.schedule_ok(NULL)],
          ARRAY[true, true, true, false, false, false, false],
          'schedule_ok: manual and every 5..1440 minutes only');

-- ---------------------------------------------------------------------
-- The helpers, as the service calls them.
SELECT is(pg_temp.attempt('w', 'o1', $$SELECT finicom.object_delete('source', '{o1}', '{s1}')$$),
          'SQLSTATE F0409', 'object_delete of a source in use: in_use');
SELECT is(pg_temp.attempt('w', 'o1', $$SELECT finicom.object_delete('integration', '{o1}', '{i1}')$$),
          'SQLSTATE F0409', 'object_delete of an integration in use: in_use');
SELECT is(pg_temp.attempt('w', 'o1', $$SELECT finicom.object_delete('destination', '{o1}', '{d1}')$$),
          'SQLSTATE F0409', 'object_delete of a destination in use: in_use');
SELECT is(pg_temp.attempt('w', 'o1', $$SELECT FROM finicom.object_delete('source', '{o1}', '{s1x}') d WHERE d$$),
          'rows 1', 'object_delete of an unused source deletes it');
SELECT is(pg_temp.attempt('w', 'o1', $$SELECT FROM finicom.object_delete('source', '{o2}', '{s2x}') d WHERE d$$),
          'rows 0', 'object_delete of another org''s source deletes nothing');
SELECT is(pg_temp.attempt('w', 'o1', $$SELECT finicom.connection_refs_check('{o1}', '{s2}', NULL, NULL)$$),
          'SQLSTATE F0400', 'connection_refs_check: a source of O2 is not one of O1');
SELECT is(pg_temp.attempt('w', 'o1', $$SELECT finicom.connection_refs_check('{o1}', '{s1}', '{d1}', ARRAY['{i1}', '{i2}']::uuid[])$$),
          'SQLSTATE F0400', 'connection_refs_check: an integration of O2 is not one of O1');
SELECT is(pg_temp.attempt('w', 'o1', $$SELECT finicom.connection_refs_check('{o1}', '{s1}', '{d1}', ARRAY['{i1}', '{i1x}']::uuid[])$$),
          'rows 1', 'connection_refs_check: objects of O1 pass');
SELECT is(pg_temp.attempt('w', 'o1', $$SELECT finicom.sync_request('{o1}', '{c1}')$$),
          'rows 1', 'sync_request on a pro org queues a run');
SELECT is(pg_temp.attempt('r', 'o1', $$SELECT finicom.sync_request('{o1}', '{c1}')$$),
          'SQLSTATE 42501', 'sync_request by a read member is refused by the policy');
UPDATE finicom.orgs SET plan = 'trial', trial_ends_at = now() - interval '1 second' WHERE id = pg_temp.fx('o1');
SELECT is(pg_temp.attempt('w', 'o1', $$SELECT finicom.sync_request('{o1}', '{c1}')$$),
          'SQLSTATE F0402', 'sync_request on an ended trial: plan_required');
SELECT is(pg_temp.attempt('w', 'o1', $$SELECT finicom.sync_request('{o1}', '{c2}')$$),
          'SQLSTATE F0404', 'sync_request for a connection of another org: not_found');

SELECT * FROM finish();
ROLLBACK;
