-- 03-orgs-rls: the row-level security matrix of finicom.orgs and
-- finicom.memberships, finicom.org_create() and the last-admin trigger
-- (issue 4, "Tests"; sql/0003_orgs.sql).
--
-- Words:
--   fixtures   users and orgs made here as the superuser, named in pg_temp.fx
--   O1         a = admin, w = write, r = read, m = read (the member acted on)
--   O2         x = admin, y = read: "the other org" for a, w and r
--   O3         a = admin, z = read: an org a also administers
--   O4         b = its only admin;  O5: p and q, two admins
--   attempt()  runs one statement as finicom_app with a request context in
--              a subtransaction that is always rolled back, and says what
--              happened: 'rows N' (rows returned or changed) or
--              'SQLSTATE xxxxx'.  Every matrix case starts from the same
--              fixtures, whatever ran before it.
CREATE EXTENSION IF NOT EXISTS pgtap;

BEGIN;
SELECT plan(102);

SELECT gen_random_uuid() AS a, gen_random_uuid() AS w, gen_random_uuid() AS r, gen_random_uuid() AS m,
       gen_random_uuid() AS x, gen_random_uuid() AS y, gen_random_uuid() AS z, gen_random_uuid() AS n,
       gen_random_uuid() AS b, gen_random_uuid() AS p, gen_random_uuid() AS q, gen_random_uuid() AS c,
       gen_random_uuid() AS o1, gen_random_uuid() AS o2, gen_random_uuid() AS o3,
       gen_random_uuid() AS o4, gen_random_uuid() AS o5 \gset

CREATE TEMP TABLE fx (name text PRIMARY KEY, id uuid NOT NULL);
INSERT INTO fx VALUES ('a', :'a'), ('w', :'w'), ('r', :'r'), ('m', :'m'), ('x', :'x'), ('y', :'y'),
    ('z', :'z'), ('n', :'n'), ('b', :'b'), ('p', :'p'), ('q', :'q'), ('c', :'c'),
    ('o1', :'o1'), ('o2', :'o2'), ('o3', :'o3'), ('o4', :'o4'), ('o5', :'o5');

INSERT INTO finicom.users (id, email, name, password_hash)
SELECT id, name || '-' || id || '@orgs-rls.test', upper(name), '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA'
FROM fx WHERE name !~ '^o';
INSERT INTO finicom.orgs (id, name)
SELECT id, 'orgs-rls ' || name FROM fx WHERE name ~ '^o';
INSERT INTO finicom.memberships (org_id, user_id, role) VALUES
    (:'o1', :'a', 'admin'), (:'o1', :'w', 'write'), (:'o1', :'r', 'read'), (:'o1', :'m', 'read'),
    (:'o2', :'x', 'admin'), (:'o2', :'y', 'read'),
    (:'o3', :'a', 'admin'), (:'o3', :'z', 'read'),
    (:'o4', :'b', 'admin'),
    (:'o5', :'p', 'admin'), (:'o5', :'q', 'admin');

-- Act as finicom_app with a request context ('' leaves a setting empty).
CREATE FUNCTION pg_temp.act(p_actor_type text, p_actor_id text, p_org_id text) RETURNS void
    LANGUAGE plpgsql AS $$
    BEGIN
        -- An actor type: the context as begin_request seals it (with the
        -- role the database looks up).  None: settings made by hand,
        -- which verify as no context at all.
        RESET ROLE;
        IF p_actor_type <> '' THEN
            PERFORM finicom.context_enter(p_actor_type, nullif(p_actor_id, '')::uuid,
                                          nullif(p_org_id, '')::uuid, NULL, NULL);
        ELSE
            PERFORM set_config('finicom.actor_type', p_actor_type, true),
                    set_config('finicom.actor_id', p_actor_id, true),
                    set_config('finicom.org_id', p_org_id, true);
        END IF;
        SET LOCAL ROLE finicom_app;
    END
    $$;

-- {name} in a statement becomes the fixture's id.
CREATE FUNCTION pg_temp.sub(p_sql text) RETURNS text
    LANGUAGE plpgsql AS $$
    DECLARE
        f record;
    BEGIN
        FOR f IN SELECT name, id FROM fx LOOP
            p_sql := replace(p_sql, '{' || f.name || '}', f.id::text);
        END LOOP;
        RETURN p_sql;
    END
    $$;

-- Run p_sql as finicom_app; p_actor: a fixture name (a signed-in user),
-- 'none' (every setting RESET) or 'empty' (every setting '');
-- p_org: the org of the request, a fixture name or NULL ('').
CREATE FUNCTION pg_temp.attempt(p_actor text, p_org text, p_sql text) RETURNS text
    LANGUAGE plpgsql AS $$
    DECLARE
        v_sql text := pg_temp.sub(p_sql);
        v_actor text := (SELECT id::text FROM fx WHERE name = p_actor);
        v_org text := coalesce((SELECT id::text FROM fx WHERE name = p_org), '');
        v_rows bigint;
        v_outcome text;
    BEGIN
        BEGIN
            SET LOCAL ROLE finicom_app;
            IF p_actor = 'none' THEN
                -- Once set in a session, a setting never reads as unset
                -- again; RESET is as close to "never set" as it gets.
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
                -- As begin_request leaves it: the context sealed by the
                -- database, with the role it looked up (the superuser may
                -- call context_enter; finicom_app may not).
                RESET ROLE;
                PERFORM finicom.context_enter('user', v_actor::uuid, nullif(v_org, '')::uuid, NULL, NULL);
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
-- No context at all (nothing set yet in this session): nothing visible.
SET LOCAL ROLE finicom_app;
SELECT is_empty(format('SELECT id FROM finicom.orgs WHERE id IN (%L, %L)', :'o1', :'o2'),
                'no context: no org is visible');
SELECT is_empty(format('SELECT org_id FROM finicom.memberships WHERE org_id IN (%L, %L)', :'o1', :'o2'),
                'no context: no membership is visible');
RESET ROLE;

-- ---------------------------------------------------------------------
-- Each member sees exactly its own orgs and their memberships, nothing
-- of any other org in the database.
SELECT pg_temp.act('user', :'a', :'o1');
SELECT set_eq('SELECT id FROM finicom.orgs', ARRAY[:'o1'::uuid, :'o3'::uuid],
              'admin a sees exactly its orgs O1 and O3');
SELECT pg_temp.act('user', :'w', :'o1');
SELECT set_eq('SELECT id FROM finicom.orgs', ARRAY[:'o1'::uuid], 'write w sees exactly O1');
SELECT pg_temp.act('user', :'r', :'o1');
SELECT set_eq('SELECT id FROM finicom.orgs', ARRAY[:'o1'::uuid], 'read r sees exactly O1');
SELECT set_eq('SELECT org_id, user_id FROM finicom.memberships',
              format('VALUES (%1$L::uuid, %2$L::uuid), (%1$L, %3$L), (%1$L, %4$L), (%1$L, %5$L)',
                     :'o1', :'a', :'w', :'r', :'m'),
              'read r sees exactly the four memberships of O1');
RESET ROLE;

-- ---------------------------------------------------------------------
-- The matrix: who, org of the request, statement, expected outcome.
CREATE TEMP TABLE matrix (n serial, actor text, org text, sql text, expected text, what text);
INSERT INTO matrix (actor, org, sql, expected, what)
SELECT role.actor, cmd.org, cmd.sql,
       CASE WHEN role.actor = 'a' AND cmd.admin_expected IS NOT NULL THEN cmd.admin_expected
            ELSE cmd.expected END,
       role.label || ', ' || cmd.what || ' -> ' ||
           CASE WHEN role.actor = 'a' AND cmd.admin_expected IS NOT NULL THEN cmd.admin_expected
                ELSE cmd.expected END
FROM (VALUES (1, 'a', 'admin'), (2, 'w', 'write'), (3, 'r', 'read')) AS role (k, actor, label)
CROSS JOIN (VALUES
    (1, 'o1', $$SELECT 1 FROM finicom.orgs WHERE id = '{o1}'$$, 'rows 1', NULL,
     'same org, SELECT orgs'),
    (2, 'o2', $$SELECT 1 FROM finicom.orgs WHERE id = '{o2}'$$, 'rows 0', NULL,
     'other org, SELECT orgs'),
    (3, 'o1', $$INSERT INTO finicom.orgs (name) VALUES ('made by INSERT')$$, 'SQLSTATE 42501', NULL,
     'INSERT orgs'),
    (4, 'o1', $$UPDATE finicom.orgs SET name = 'renamed' WHERE id = '{o1}'$$, 'rows 0', 'rows 1',
     'same org, UPDATE orgs'),
    (5, 'o2', $$UPDATE finicom.orgs SET name = 'renamed' WHERE id = '{o2}'$$, 'rows 0', NULL,
     'other org, UPDATE orgs'),
    (6, 'o1', $$DELETE FROM finicom.orgs WHERE id = '{o1}'$$, 'rows 0', 'rows 1',
     'same org, DELETE orgs'),
    (7, 'o2', $$DELETE FROM finicom.orgs WHERE id = '{o2}'$$, 'rows 0', NULL,
     'other org, DELETE orgs'),
    (8, 'o1', $$SELECT 1 FROM finicom.memberships WHERE org_id = '{o1}'$$, 'rows 4', NULL,
     'same org, SELECT memberships'),
    (9, 'o2', $$SELECT 1 FROM finicom.memberships WHERE org_id = '{o2}'$$, 'rows 0', NULL,
     'other org, SELECT memberships'),
    (10, 'o1', $$INSERT INTO finicom.memberships (org_id, user_id, role) VALUES ('{o1}', '{n}', 'read')$$,
     'SQLSTATE 42501', 'rows 1', 'same org, INSERT memberships'),
    (11, 'o2', $$INSERT INTO finicom.memberships (org_id, user_id, role) VALUES ('{o2}', '{n}', 'read')$$,
     'SQLSTATE 42501', NULL, 'other org, INSERT memberships'),
    (12, 'o1', $$UPDATE finicom.memberships SET role = 'write' WHERE org_id = '{o1}' AND user_id = '{m}'$$,
     'rows 0', 'rows 1', 'same org, UPDATE memberships (role of m)'),
    (13, 'o2', $$UPDATE finicom.memberships SET role = 'write' WHERE org_id = '{o2}' AND user_id = '{y}'$$,
     'rows 0', NULL, 'other org, UPDATE memberships (role of y)'),
    (14, 'o1', $$DELETE FROM finicom.memberships WHERE org_id = '{o1}' AND user_id = '{m}'$$,
     'rows 0', 'rows 1', 'same org, DELETE memberships (m)'),
    (15, 'o2', $$DELETE FROM finicom.memberships WHERE org_id = '{o2}' AND user_id = '{y}'$$,
     'rows 0', NULL, 'other org, DELETE memberships (y)')
) AS cmd (k, org, sql, expected, admin_expected, what)
ORDER BY role.k, cmd.k;

-- No context and an empty-string context: nothing visible, nothing changes.
INSERT INTO matrix (actor, org, sql, expected, what)
SELECT ctx.actor, NULL, cmd.sql, cmd.expected, ctx.label || ': ' || cmd.what
FROM (VALUES (1, 'none', 'no context'), (2, 'empty', 'empty-string context')) AS ctx (k, actor, label)
CROSS JOIN (VALUES
    (1, $$SELECT 1 FROM finicom.orgs WHERE id = '{o1}'$$, 'rows 0', 'SELECT orgs sees nothing'),
    (2, $$INSERT INTO finicom.orgs (name) VALUES ('made by INSERT')$$, 'SQLSTATE 42501', 'INSERT orgs is refused'),
    (3, $$UPDATE finicom.orgs SET name = 'renamed' WHERE id = '{o1}'$$, 'rows 0', 'UPDATE orgs changes nothing'),
    (4, $$DELETE FROM finicom.orgs WHERE id = '{o1}'$$, 'rows 0', 'DELETE orgs deletes nothing'),
    (5, $$SELECT 1 FROM finicom.memberships WHERE org_id = '{o1}'$$, 'rows 0', 'SELECT memberships sees nothing'),
    (6, $$INSERT INTO finicom.memberships (org_id, user_id, role) VALUES ('{o1}', '{n}', 'read')$$,
     'SQLSTATE 42501', 'INSERT memberships is refused'),
    (7, $$UPDATE finicom.memberships SET role = 'admin' WHERE org_id = '{o1}'$$, 'rows 0',
     'UPDATE memberships changes nothing'),
    (8, $$DELETE FROM finicom.memberships WHERE org_id = '{o1}'$$, 'rows 0', 'DELETE memberships deletes nothing')
) AS cmd (k, sql, expected, what)
ORDER BY ctx.k, cmd.k;

INSERT INTO matrix (actor, org, sql, expected, what) VALUES
    -- Writes need the org of the request: a's request about O1 cannot touch
    -- O3, which a also administers; the same statements about O3 can.
    ('a', 'o1', $$UPDATE finicom.orgs SET name = 'renamed' WHERE id = '{o3}'$$, 'rows 0',
     'admin of O1 and O3, request about O1: UPDATE O3 changes nothing'),
    ('a', 'o1', $$DELETE FROM finicom.orgs WHERE id = '{o3}'$$, 'rows 0',
     'admin of O1 and O3, request about O1: DELETE O3 deletes nothing'),
    ('a', 'o1', $$INSERT INTO finicom.memberships (org_id, user_id, role) VALUES ('{o3}', '{n}', 'read')$$,
     'SQLSTATE 42501', 'admin of O1 and O3, request about O1: INSERT a membership of O3 is refused'),
    ('a', 'o1', $$UPDATE finicom.memberships SET role = 'write' WHERE org_id = '{o3}' AND user_id = '{z}'$$,
     'rows 0', 'admin of O1 and O3, request about O1: UPDATE a membership of O3 changes nothing'),
    ('a', 'o1', $$DELETE FROM finicom.memberships WHERE org_id = '{o3}' AND user_id = '{z}'$$,
     'rows 0', 'admin of O1 and O3, request about O1: DELETE a membership of O3 deletes nothing'),
    ('a', 'o3', $$UPDATE finicom.orgs SET name = 'renamed' WHERE id = '{o3}'$$, 'rows 1',
     'admin of O3, request about O3: UPDATE O3 works'),
    ('a', 'o3', $$UPDATE finicom.memberships SET role = 'write' WHERE org_id = '{o3}' AND user_id = '{z}'$$,
     'rows 1', 'admin of O3, request about O3: UPDATE a membership of O3 works'),
    -- A request with no org (a path without one) writes nothing, even for an admin.
    ('a', NULL, $$SELECT 1 FROM finicom.orgs WHERE id = '{o1}'$$, 'rows 1',
     'admin, request without an org: SELECT O1 still works'),
    ('a', NULL, $$UPDATE finicom.orgs SET name = 'renamed' WHERE id = '{o1}'$$, 'rows 0',
     'admin, request without an org: UPDATE O1 changes nothing'),
    ('a', NULL, $$DELETE FROM finicom.memberships WHERE org_id = '{o1}' AND user_id = '{m}'$$, 'rows 0',
     'admin, request without an org: DELETE a membership deletes nothing'),
    -- Nobody promotes themselves.
    ('w', 'o1', $$UPDATE finicom.memberships SET role = 'admin' WHERE org_id = '{o1}' AND user_id = '{w}'$$,
     'rows 0', 'write: promoting itself to admin changes nothing'),
    ('r', 'o1', $$UPDATE finicom.memberships SET role = 'admin' WHERE org_id = '{o1}' AND user_id = '{r}'$$,
     'rows 0', 'read: promoting itself to admin changes nothing'),
    -- Leaving: a member deletes its own membership, in a request about that org.
    ('w', 'o1', $$DELETE FROM finicom.memberships WHERE org_id = '{o1}' AND user_id = '{w}'$$,
     'rows 1', 'write: leaving O1 (deleting its own membership) works'),
    ('r', 'o1', $$DELETE FROM finicom.memberships WHERE org_id = '{o1}' AND user_id = '{r}'$$,
     'rows 1', 'read: leaving O1 (deleting its own membership) works'),
    ('r', 'o2', $$DELETE FROM finicom.memberships WHERE org_id = '{o1}' AND user_id = '{r}'$$,
     'rows 0', 'read: leaving O1 from a request about another org deletes nothing'),
    ('r', NULL, $$DELETE FROM finicom.memberships WHERE org_id = '{o1}' AND user_id = '{r}'$$,
     'rows 0', 'read: leaving O1 from a request without an org deletes nothing'),
    -- A membership cannot be moved out of the org, even by an admin of both.
    ('a', 'o3', $$UPDATE finicom.memberships SET role = 'read' WHERE org_id = '{o1}' AND user_id = '{m}'$$,
     'rows 0', 'admin of O1 and O3, request about O3: UPDATE a membership of O1 changes nothing');

SELECT is(pg_temp.attempt(actor, org, sql), expected, what) FROM matrix ORDER BY n;

-- ---------------------------------------------------------------------
-- WITH CHECK: a membership cannot be moved to another org.  finicom_app
-- may only UPDATE (role), so the column privilege refuses first; with
-- UPDATE (org_id) granted for a moment, the policy still refuses.
SELECT pg_temp.act('user', :'a', :'o1');
SELECT throws_ok(format('UPDATE finicom.memberships SET org_id = %L WHERE org_id = %L AND user_id = %L',
                        :'o3', :'o1', :'m'),
                 '42501', NULL, 'admin of O1 and O3: moving a membership from O1 to O3 is refused');
RESET ROLE;
GRANT UPDATE (org_id) ON finicom.memberships TO finicom_app;
SELECT pg_temp.act('user', :'a', :'o1');
SELECT throws_ok(format('UPDATE finicom.memberships SET org_id = %L WHERE org_id = %L AND user_id = %L',
                        :'o3', :'o1', :'m'),
                 '42501', 'new row violates row-level security policy for table "memberships"',
                 'with UPDATE (org_id) granted, WITH CHECK still refuses moving a membership to O3');
RESET ROLE;
REVOKE UPDATE (org_id) ON finicom.memberships FROM finicom_app;
SELECT is((SELECT count(*)::int FROM finicom.memberships WHERE org_id = :'o1' AND user_id = :'m'), 1,
          'm is still a member of O1');

-- ---------------------------------------------------------------------
-- org_create: only a signed-in user; the caller becomes the admin.
SELECT is(pg_temp.attempt('none', NULL, $$SELECT * FROM finicom.org_create('no one''s org')$$), 'SQLSTATE F0403',
          'org_create with no context is refused (forbidden)');
SELECT pg_temp.act('', '', '');
SELECT throws_ok($$SELECT * FROM finicom.org_create('no one''s org')$$, 'F0403', 'forbidden',
                 'org_create with an empty-string context is refused');
SELECT pg_temp.act('api_key', :'c', '');
SELECT throws_ok($$SELECT * FROM finicom.org_create('no one''s org')$$, 'F0403', 'forbidden',
                 'org_create with an actor that is not a user is refused');
SELECT pg_temp.act('user', :'c', '');
SELECT is_empty('SELECT id FROM finicom.orgs', 'c belongs to no org before org_create');
SELECT id AS c_org FROM finicom.org_create('orgs-rls made by c') \gset
SELECT is(current_setting('finicom.org_id'), :'c_org', 'org_create sets the org of the request to the new org');
SELECT results_eq('SELECT id, name FROM finicom.orgs',
                  format($$VALUES (%L::uuid, 'orgs-rls made by c'::text)$$, :'c_org'),
                  'c sees exactly the org it created');
SELECT results_eq('SELECT user_id, role::text FROM finicom.memberships',
                  format($$VALUES (%L::uuid, 'admin'::text)$$, :'c'),
                  'the creator is the only member, and an admin');
RESET ROLE;

-- ---------------------------------------------------------------------
-- At least one admin per org.
SELECT pg_temp.act('user', :'b', :'o4');
SELECT throws_ok(format($$UPDATE finicom.memberships SET role = 'write' WHERE org_id = %L AND user_id = %L$$,
                        :'o4', :'b'),
                 'F0409', 'last_admin', 'the only admin cannot demote itself');
SELECT throws_ok(format('DELETE FROM finicom.memberships WHERE org_id = %L AND user_id = %L', :'o4', :'b'),
                 'F0409', 'last_admin', 'the only admin cannot leave');
SELECT pg_temp.act('user', :'p', :'o5');
SELECT lives_ok(format($$UPDATE finicom.memberships SET role = 'read' WHERE org_id = %L AND user_id = %L$$,
                       :'o5', :'q'),
                'with two admins, one can demote the other');
SELECT throws_ok(format($$UPDATE finicom.memberships SET role = 'write' WHERE org_id = %L AND user_id = %L$$,
                        :'o5', :'p'),
                 'F0409', 'last_admin', 'then the remaining admin cannot demote itself');
RESET ROLE;
SELECT results_eq(format($$SELECT user_id FROM finicom.memberships WHERE org_id = %L AND role = 'admin'$$, :'o5'),
                  ARRAY[:'p'::uuid], 'O5 is left with exactly one admin, p');

-- Deleting the org itself takes its memberships with it, last admin included.
SELECT is(pg_temp.attempt('b', 'o4', $$DELETE FROM finicom.orgs WHERE id = '{o4}'$$), 'rows 1',
          'the only admin can delete its org (memberships cascade)');
SELECT pg_temp.act('user', :'b', :'o4');
SELECT lives_ok(format('DELETE FROM finicom.orgs WHERE id = %L', :'o4'),
                'the only admin deletes its org for good');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM finicom.orgs WHERE id = :'o4')
          + (SELECT count(*)::int FROM finicom.memberships WHERE org_id = :'o4'), 0,
          'O4 and its memberships are gone');

SELECT * FROM finish();
ROLLBACK;
