-- 04-last-admin-concurrency: two admins demoting each other at the same
-- moment leave one admin and one last_admin refusal (issue 4, "Tests";
-- the constraint trigger finicom.memberships_keep_an_admin in
-- sql/0003_orgs.sql, which locks the org row before counting admins).
--
-- Words:
--   fx        a dblink connection that commits the fixture (an org with two
--             admins, p and q) and removes it at the end: the two racing
--             connections must see committed rows
--   c1, c2    two dblink connections acting as finicom_app: c1 as p, c2 as q,
--             each in the context finicom.context_enter() seals for it, as
--             begin_request does (dblink_exec refuses a SELECT as the last
--             statement)
-- The race made deterministic: c1 demotes q and keeps its transaction open
-- (holding the org row lock its trigger took); c2's demotion of p is sent
-- asynchronously and must block on that lock; then c1 commits, c2's
-- trigger counts admins again, finds none, and raises F0409.
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS dblink;

BEGIN;
SELECT plan(18);

SELECT 'dbname=' || current_database() || ' user=postgres host='
       || split_part(current_setting('unix_socket_directories'), ',', 1)
       || ' port=' || current_setting('port') AS conninfo \gset
SELECT gen_random_uuid() AS org, gen_random_uuid() AS p, gen_random_uuid() AS q \gset

-- Wait (at most 10 s) until connection c2's backend is blocked by c1's;
-- false if c2 finished its statement instead, or never blocked.
CREATE FUNCTION pg_temp.c2_blocked_by_c1(p_c2 integer, p_c1 integer) RETURNS boolean
    LANGUAGE plpgsql AS $$
    BEGIN
        FOR i IN 1..200 LOOP
            IF p_c1 = ANY (pg_blocking_pids(p_c2)) THEN
                RETURN true;
            END IF;
            IF dblink_is_busy('c2') = 0 THEN
                RETURN false;
            END IF;
            PERFORM pg_sleep(0.05);
        END LOOP;
        RETURN false;
    END
    $$;

SELECT is(dblink_connect('fx', :'conninfo'), 'OK', 'fixture connection opens');
SELECT is(dblink_connect('c1', :'conninfo'), 'OK', 'connection 1 opens');
SELECT is(dblink_connect('c2', :'conninfo'), 'OK', 'connection 2 opens');

-- Leftovers of an interrupted earlier run go first (old ones only, so a
-- run going on elsewhere keeps its fixture).
SELECT FROM dblink_exec('fx', $$
    DELETE FROM finicom.orgs WHERE name = 'pgtap 04 last-admin race' AND created_at < now() - interval '10 minutes';
    DELETE FROM finicom.users WHERE email LIKE '%@last-admin-race.pgtap.test' AND created_at < now() - interval '10 minutes'
$$);

SELECT is(dblink_exec('fx', format($$
    BEGIN;
    INSERT INTO finicom.users (id, email, name, password_hash) VALUES
        (%1$L, 'p-' || %1$L || '@last-admin-race.pgtap.test', 'P', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA'),
        (%2$L, 'q-' || %2$L || '@last-admin-race.pgtap.test', 'Q', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA');
    INSERT INTO finicom.orgs (id, name) VALUES (%3$L, 'pgtap 04 last-admin race');
    INSERT INTO finicom.memberships (org_id, user_id, role) VALUES (%3$L, %1$L, 'admin'), (%3$L, %2$L, 'admin');
    COMMIT$$, :'p', :'q', :'org')), 'COMMIT', 'the fixture (an org with admins p and q) is committed');

SELECT results_eq(
    format('SELECT n FROM dblink(%L, %L) AS t(n bigint)', 'c1',
           format($$SELECT count(*) FROM finicom.memberships WHERE org_id = %L AND role = 'admin'$$, :'org')),
    ARRAY[2::bigint], 'another connection sees the org with its two admins');

SELECT (SELECT pid FROM dblink('c1', 'SELECT pg_backend_pid()') AS t(pid integer)) AS c1_pid,
       (SELECT pid FROM dblink('c2', 'SELECT pg_backend_pid()') AS t(pid integer)) AS c2_pid \gset

-- c1, acting as p in a request about the org, demotes q and holds on.
SELECT is(dblink_exec('c1', format($$
    BEGIN;
    SELECT finicom.context_enter('user', %1$L, %3$L, NULL, NULL);
    SET LOCAL ROLE finicom_app;
    UPDATE finicom.memberships SET role = 'read' WHERE org_id = %3$L AND user_id = %2$L$$,
    :'p', :'q', :'org')), 'UPDATE 1', 'connection 1 (p) demotes q, transaction still open');

-- c2, acting as q, demotes p: sent, not waited for.
SELECT is(dblink_exec('c2', format($$
    SET lock_timeout = '20s';
    BEGIN;
    SELECT finicom.context_enter('user', %1$L, %2$L, NULL, NULL);
    SET LOCAL ROLE finicom_app$$,
    :'q', :'org')), 'SET', 'connection 2 (q) begins its request');
SELECT is(dblink_send_query('c2', format(
    $$UPDATE finicom.memberships SET role = 'read' WHERE org_id = %L AND user_id = %L$$, :'org', :'p')),
    1, 'connection 2 (q) sends its demotion of p');

SELECT ok(pg_temp.c2_blocked_by_c1(:c2_pid, :c1_pid),
          'connection 2 waits for connection 1 instead of counting admins at once');
SELECT ok(EXISTS (SELECT FROM pg_locks
                  WHERE pid = :c2_pid AND locktype = 'tuple' AND relation = 'finicom.orgs'::regclass),
          'what connection 2 waits for is a row of finicom.orgs (the org row lock)');

SELECT is(dblink_exec('c1', 'COMMIT'), 'COMMIT', 'connection 1 commits: its demotion succeeded');
SELECT throws_ok($$SELECT * FROM dblink_get_result('c2') AS t(status text)$$, 'F0409', 'last_admin',
                 'connection 2''s demotion is refused with last_admin');
SELECT is_empty($$SELECT * FROM dblink_get_result('c2') AS t(status text)$$,
                'connection 2 has nothing more to say');
SELECT is(dblink_exec('c2', 'COMMIT'), 'ROLLBACK', 'connection 2''s transaction cannot commit: it rolls back');

-- What is committed now, read from a connection outside the race.
SELECT set_eq(
    format('SELECT user_id, role FROM dblink(%L, %L) AS t(user_id uuid, role text)', 'fx',
           format('SELECT user_id, role::text FROM finicom.memberships WHERE org_id = %L', :'org')),
    format($$VALUES (%L::uuid, 'admin'::text), (%L::uuid, 'read'::text)$$, :'p', :'q'),
    'the org ends with exactly one admin (p); q was demoted');

-- Cleanup: what fx committed goes (the org's memberships by cascade).
SELECT is(dblink_exec('fx', format($$
    BEGIN;
    DELETE FROM finicom.orgs WHERE id = %L;
    DELETE FROM finicom.users WHERE id IN (%L, %L);
    COMMIT$$, :'org', :'p', :'q')), 'COMMIT', 'the fixture is removed');
SELECT is((SELECT n FROM dblink('fx', format($$SELECT (SELECT count(*) FROM finicom.orgs WHERE id = %L)
                                                    + (SELECT count(*) FROM finicom.users WHERE id IN (%L, %L))$$,
                                             :'org', :'p', :'q')) AS t(n bigint)),
          0::bigint, 'nothing of the fixture is left');

SELECT is(ARRAY[dblink_disconnect('c1'), dblink_disconnect('c2'), dblink_disconnect('fx')],
          ARRAY['OK', 'OK', 'OK'], 'the three connections close');

SELECT * FROM finish();
ROLLBACK;
