-- 23-membership-expiry: memberships that expire, the last admin without an
-- expiry, batch invitations and member filters in the database
-- (sql/0024_member_governance.sql; docs/members.md).
--
-- Words:
--   O          an org: admin A (live session), writer W whose membership
--              expires tomorrow, reader R whose membership expired a minute
--              ago (the job has not run: the row is still there)
--   O2         another org: admin B, and R again, live there
--   as(u, o)   the context finicom.context_enter() seals for user u in org o
--              (as begin_request does), then finicom_app
--   outcome()  one statement as finicom_app: 'rows N' or 'SQLSTATE xxxxx'
--   c1, c2, fx dblink connections of the race (as in 04-last-admin-concurrency):
--              fx commits the fixture, c1 and c2 race as finicom_app
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS dblink;

BEGIN;
SELECT plan(66);

SELECT gen_random_uuid() AS o, gen_random_uuid() AS o2, gen_random_uuid() AS a, gen_random_uuid() AS w,
       gen_random_uuid() AS r, gen_random_uuid() AS b, gen_random_uuid() AS x, gen_random_uuid() AS c \gset

INSERT INTO finicom.users (id, email, name, password_hash, email_verified_at)
SELECT id, n || '-' || id || '@expiry.pgtap.test', upper(n), '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', now()
FROM (VALUES (:'a'::uuid, 'a'), (:'w', 'w'), (:'r', 'r'), (:'b', 'b'), (:'x', 'x'), (:'c', 'c')) v (id, n);
INSERT INTO finicom.sessions (token_hash, user_id, expires_at) VALUES
    (sha256(('a-' || :'a')::bytea), :'a', now() + interval '1 day'),
    (sha256(('r-' || :'r')::bytea), :'r', now() + interval '1 day');
INSERT INTO finicom.orgs (id, name) VALUES (:'o', 'pgtap 23 O'), (:'o2', 'pgtap 23 O2');
INSERT INTO finicom.memberships (org_id, user_id, role, expires_at) VALUES
    (:'o', :'a', 'admin', NULL),
    (:'o', :'w', 'write', now() + interval '1 day'),
    (:'o', :'r', 'read', now() - interval '1 minute'),
    (:'o2', :'b', 'admin', NULL),
    (:'o2', :'r', 'read', NULL);

CREATE FUNCTION pg_temp.as_user(p_user uuid, p_org uuid) RETURNS void
    LANGUAGE plpgsql AS $$
    BEGIN
        RESET ROLE;
        PERFORM finicom.context_enter('user', p_user, p_org, 'pgtap-23', NULL);
        SET LOCAL ROLE finicom_app;
    END
    $$;

CREATE FUNCTION pg_temp.outcome(p_sql text) RETURNS text
    LANGUAGE plpgsql AS $$
    DECLARE
        v_rows bigint;
    BEGIN
        BEGIN
            EXECUTE p_sql;
            GET DIAGNOSTICS v_rows = ROW_COUNT;
            RETURN 'rows ' || v_rows;
        EXCEPTION WHEN OTHERS THEN
            RETURN 'SQLSTATE ' || SQLSTATE;
        END;
    END
    $$;
GRANT EXECUTE ON FUNCTION pg_temp.outcome(text) TO finicom_app;

-- ---------------------------------------------------------------------
-- The columns.
SELECT has_column('finicom', 'memberships', 'expires_at', 'memberships have expires_at');
SELECT col_type_is('finicom', 'memberships', 'expires_at', 'timestamp with time zone', 'a timestamptz');
SELECT has_column('finicom', 'invitations', 'membership_expires_at', 'invitations have membership_expires_at');
SELECT ok(has_column_privilege('finicom_app', 'finicom.memberships', 'expires_at', 'UPDATE'),
          'finicom_app may update a membership''s expiry (row-level security decides where)');

-- ---------------------------------------------------------------------
-- begin_request: an expired membership gives no org, at once.
SET LOCAL ROLE finicom_app;
SELECT results_eq(
    format($$SELECT actor_type, actor_id, org_id, org_role FROM finicom.begin_request('session', sha256(%L::bytea), %L, 43200, 'pgtap-23', NULL)$$,
           'r-' || :'r', :'o'),
    format($$VALUES ('user'::text, %L::uuid, NULL::uuid, NULL::text)$$, :'r'),
    'begin_request for R in O (expired a minute ago, not yet swept): the user, no org, no role');
SELECT is(finicom.request_org_id(), NULL, 'and the context has no org: every org path is 404');
SELECT results_eq(
    format($$SELECT org_id, org_role FROM finicom.begin_request('session', sha256(%L::bytea), %L, 43200, 'pgtap-23', NULL)$$,
           'r-' || :'r', :'o2'),
    format($$VALUES (%L::uuid, 'read'::text)$$, :'o2'),
    'control: begin_request for R in O2 (no expiry): O2 with role read');
SELECT results_eq(
    format($$SELECT org_id FROM finicom.begin_request('session', sha256(%L::bytea), %L, 43200, 'pgtap-23', NULL)$$,
           'a-' || :'a', :'o'),
    format($$VALUES (%L::uuid)$$, :'o'), 'control: begin_request for A in O: O');
RESET ROLE;
SELECT is((finicom.context_enter('user', :'r', :'o', NULL, NULL)).org_id, NULL,
          'context_enter for R in O gives no org either');

-- ---------------------------------------------------------------------
-- The policies: the RLS matrix of an expired membership.
SELECT FROM pg_temp.as_user(:'r', :'o2');
SELECT set_eq('SELECT org_id FROM finicom.memberships WHERE user_id = finicom.request_user_id()',
              format('VALUES (%L::uuid)', :'o2'),
              'R (in O2) sees its own live membership, not the expired one in O (GET /me)');
SELECT is(pg_temp.outcome(format('SELECT 1 FROM finicom.memberships WHERE org_id = %L', :'o')), 'rows 0',
          'R sees nothing of O');
SELECT FROM pg_temp.as_user(:'a', :'o');
SELECT set_eq(format('SELECT user_id FROM finicom.memberships WHERE org_id = %L', :'o'),
              format('VALUES (%L::uuid), (%L::uuid)', :'a', :'w'),
              'A (admin of O) sees A and W: not R, whose membership expired');
SELECT set_eq('SELECT user_id FROM finicom.member_rows', format('VALUES (%L::uuid), (%L::uuid)', :'a', :'w'),
              'member_rows (GET members) lists A and W');
SELECT set_eq('SELECT user_id FROM finicom.member_search(10, NULL, NULL, NULL, NULL, NULL)',
              format('VALUES (%L::uuid), (%L::uuid)', :'a', :'w'),
              'member_search (GET members with filters) lists A and W');
SELECT is(pg_temp.outcome(format('SELECT 1 FROM finicom.users WHERE id = %L', :'r')), 'rows 0',
          'R''s user row is not visible through O either');
SELECT is(pg_temp.outcome(format($$UPDATE finicom.memberships SET role = 'write' WHERE org_id = %L AND user_id = %L$$, :'o', :'r')),
          'rows 0', 'A cannot update R''s expired membership (404)');
SELECT is(pg_temp.outcome(format($$UPDATE finicom.memberships SET expires_at = NULL WHERE org_id = %L AND user_id = %L$$, :'o', :'r')),
          'rows 0', 'nor revive it by clearing the expiry');
SELECT is(pg_temp.outcome(format('DELETE FROM finicom.memberships WHERE org_id = %L AND user_id = %L', :'o', :'r')),
          'rows 0', 'nor delete it (the job does)');
SELECT is(pg_temp.outcome(format($$UPDATE finicom.memberships SET expires_at = now() + interval '2 days' WHERE org_id = %L AND user_id = %L$$, :'o', :'w')),
          'rows 1', 'A moves W''s expiry (a live membership)');
SELECT is(pg_temp.outcome(format($$UPDATE finicom.memberships SET expires_at = now() + interval '2 days' WHERE org_id = %L AND user_id = %L$$, :'o2', :'r')),
          'rows 0', 'A cannot set an expiry in O2');
SELECT FROM pg_temp.as_user(:'w', :'o');
SELECT is(pg_temp.outcome(format($$UPDATE finicom.memberships SET expires_at = NULL WHERE org_id = %L AND user_id = %L$$, :'o', :'w')),
          'rows 0', 'W (write) cannot clear its own expiry');
SELECT is(pg_temp.outcome(format('SELECT 1 FROM finicom.member_search(10, NULL, NULL, NULL, NULL, NULL) WHERE user_id = %L', :'r')),
          'rows 0', 'W''s member_search does not list R');
SELECT FROM pg_temp.as_user(:'b', :'o2');
SELECT is(pg_temp.outcome('SELECT 1 FROM finicom.member_search(10, NULL, NULL, NULL, NULL, NULL)'), 'rows 2',
          'B''s member_search lists O2''s two members');
SELECT is(pg_temp.outcome(format('SELECT 1 FROM finicom.member_search(10, NULL, NULL, NULL, NULL, NULL) WHERE user_id IN (%L, %L)', :'a', :'w')),
          'rows 0', 'and nobody of O');
RESET ROLE;
SELECT FROM finicom.context_enter(NULL, NULL, NULL, NULL, NULL);
SET LOCAL ROLE finicom_app;
SELECT is(pg_temp.outcome('SELECT 1 FROM finicom.member_search(10, NULL, NULL, NULL, NULL, NULL)'), 'rows 0',
          'member_search without a context: no row');
RESET ROLE;
SELECT ok((SELECT bool_and(qual LIKE '%( SELECT now() AS now)%') FROM pg_policies
            WHERE schemaname = 'finicom' AND tablename = 'memberships' AND roles = '{finicom_app}'
              AND cmd IN ('SELECT', 'UPDATE', 'DELETE')),
          'the memberships policies compare with now() through an uncorrelated sub-select (an InitPlan, once per statement)');

-- Filters (the plans are in docs/members.md).
SELECT FROM pg_temp.as_user(:'a', :'o');
SELECT set_eq(format($$SELECT user_id FROM finicom.member_search(10, NULL, NULL, %L, NULL, NULL)$$, '%' || 'w-' || :'w' || '%'),
              format('VALUES (%L::uuid)', :'w'), 'q matches the email');
SELECT set_eq($$SELECT user_id FROM finicom.member_search(10, NULL, NULL, '%a\n%', NULL, NULL)$$,
              'SELECT NULL::uuid WHERE false', 'q never matches across email and name');
SELECT set_eq($$SELECT user_id FROM finicom.member_search(10, NULL, NULL, NULL, 'write', NULL)$$,
              format('VALUES (%L::uuid)', :'w'), 'role filters');
SELECT set_eq($$SELECT user_id FROM finicom.member_search(10, NULL, NULL, NULL, NULL, 1)$$,
              format('VALUES (%L::uuid)', :'w'),
              'inactive_days: W, never active, is inactive; A, active (its begin_request above), is not');
RESET ROLE;
UPDATE finicom.member_activity SET last_active_at = now() - interval '3 days' WHERE org_id = :'o' AND user_id = :'a';
SELECT FROM pg_temp.as_user(:'a', :'o');
SELECT set_eq($$SELECT user_id FROM finicom.member_search(10, NULL, NULL, NULL, NULL, 2)$$,
              format('VALUES (%L::uuid), (%L::uuid)', :'a', :'w'), 'inactive_days=2: A, last active 3 days ago, is');

-- ---------------------------------------------------------------------
-- The last admin: at least one admin without an expiry.
SELECT throws_ok(format($$UPDATE finicom.memberships SET expires_at = now() + interval '1 day' WHERE org_id = %L AND user_id = %L$$, :'o', :'a'),
                 'F0409', 'last_admin', 'the only admin cannot get an expiry');
RESET ROLE;
UPDATE finicom.memberships SET role = 'admin' WHERE org_id = :'o' AND user_id = :'w';
SELECT FROM pg_temp.as_user(:'a', :'o');
SELECT throws_ok(format($$UPDATE finicom.memberships SET expires_at = now() + interval '1 day' WHERE org_id = %L AND user_id = %L$$, :'o', :'a'),
                 'F0409', 'last_admin', 'nor while the other admin (W) has an expiry');
SELECT throws_ok(format($$UPDATE finicom.memberships SET role = 'read' WHERE org_id = %L AND user_id = %L$$, :'o', :'a'),
                 'F0409', 'last_admin', 'nor be demoted');
SELECT throws_ok(format('DELETE FROM finicom.memberships WHERE org_id = %L AND user_id = %L', :'o', :'a'),
                 'F0409', 'last_admin', 'nor leave');
SELECT is(pg_temp.outcome(format($$UPDATE finicom.memberships SET role = 'read' WHERE org_id = %L AND user_id = %L$$, :'o', :'w')),
          'rows 1', 'an admin with an expiry may be demoted (A remains)');
RESET ROLE;
INSERT INTO finicom.memberships (org_id, user_id, role) VALUES (:'o', :'c', 'admin');
SELECT FROM pg_temp.as_user(:'a', :'o');
SELECT is(pg_temp.outcome(format($$UPDATE finicom.memberships SET expires_at = now() + interval '1 day' WHERE org_id = %L AND user_id = %L$$, :'o', :'a')),
          'rows 1', 'with C, an admin without an expiry, A may get one');
SELECT throws_ok(format($$UPDATE finicom.memberships SET expires_at = now() + interval '1 day' WHERE org_id = %L AND user_id = %L$$, :'o', :'c'),
                 'F0409', 'last_admin', 'then C may not');
SELECT throws_ok(format($$UPDATE finicom.memberships SET expires_at = now() - interval '1 day' WHERE org_id = %L AND user_id = %L$$, :'o', :'c'),
                 '42501', NULL, 'and an expiry already past is refused by the policies themselves (the row would vanish)');

-- ---------------------------------------------------------------------
-- Invitations with a membership expiry; the batch.
SELECT throws_ok(format($$SELECT finicom.invitation_create(%L, 'p@expiry.pgtap.test', 'read', sha256('p'::bytea), 'http://x/invite/p', now() - interval '1 second')$$, :'o'),
                 'F0400', 'validation_failed', 'a membership_expires_at in the past is 400');
SELECT lives_ok(format($$SELECT finicom.invitation_create(%L, %L, 'write', sha256(%L::bytea), 'http://x/invite/x', now() + interval '3 days')$$,
                       :'o', 'x-' || :'x' || '@expiry.pgtap.test', 'x-inv-' || :'x'),
                'A invites X with a membership expiring in 3 days');
SELECT ok((SELECT expires_at <= membership_expires_at FROM finicom.invitations WHERE token_hash = sha256(('x-inv-' || :'x')::bytea)),
          'the invitation expires no later than the membership it offers');
SELECT FROM pg_temp.as_user(:'x', NULL);
SELECT is((SELECT outcome FROM finicom.invitation_join(sha256(('x-inv-' || :'x')::bytea))), 'ok', 'X accepts');
RESET ROLE;
SELECT ok((SELECT m.expires_at = i.membership_expires_at FROM finicom.memberships m, finicom.invitations i
            WHERE m.org_id = :'o' AND m.user_id = :'x' AND i.token_hash = sha256(('x-inv-' || :'x')::bytea)),
          'X''s membership carries the invitation''s membership_expires_at');

SELECT FROM pg_temp.as_user(:'a', :'o');
SELECT is(
    (SELECT array_agg(coalesce(e -> 'error' ->> 'code', 'ok') ORDER BY n)
       FROM json_array_elements(finicom.invitation_create_batch(:'o', json_build_array(
           json_build_object('email', 'b1@expiry.pgtap.test', 'role', 'read', 'token_hash', '\x' || encode(sha256('b1'::bytea), 'hex'), 'link', 'http://x/invite/b1'),
           json_build_object('email', 'c-' || :'c' || '@expiry.pgtap.test', 'role', 'read', 'token_hash', '\x' || encode(sha256('b2'::bytea), 'hex'), 'link', 'http://x/invite/b2'),
           json_build_object('email', 'bad', 'error', json_build_object('code', 'validation_failed', 'message', 'm', 'field', 'email')),
           json_build_object('email', 'b3@expiry.pgtap.test', 'role', 'write', 'membership_expires_at', now() - interval '1 day', 'token_hash', '\x' || encode(sha256('b3'::bytea), 'hex'), 'link', 'http://x/invite/b3'),
           json_build_object('email', 'B1@expiry.pgtap.test', 'role', 'read', 'token_hash', '\x' || encode(sha256('b4'::bytea), 'hex'), 'link', 'http://x/invite/b4')
       ))::json) WITH ORDINALITY AS t (e, n)),
    ARRAY['ok', 'already_member', 'validation_failed', 'validation_failed', 'invitation_pending'],
    'the batch: one result per item in order, each succeeding or failing on its own');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM finicom.invitations WHERE org_id = :'o' AND email LIKE 'b_@expiry.pgtap.test'), 1,
          'only the one success left an invitation');
SELECT is((SELECT count(*)::int FROM finicom.mail_outbox WHERE org_id = :'o' AND recipient LIKE 'b_@expiry.pgtap.test'), 1,
          'and only it a mail');
SELECT is((SELECT count(*)::int FROM audit.events WHERE org_id = :'o' AND action = 'invitation.created'
              AND details ->> 'email' LIKE 'b_@expiry.pgtap.test'), 1, 'and only it an event');
SELECT FROM pg_temp.as_user(:'w', :'o');
SELECT throws_ok(format($$SELECT finicom.invitation_create_batch(%L, '[]')$$, :'o'), 'F0403', 'forbidden',
                 'a non-admin''s batch is refused as a whole');

-- ---------------------------------------------------------------------
-- The job's function: expired memberships go, with member.expired (system).
RESET ROLE;
SELECT ok(finicom.expire_memberships() >= 1, 'expire_memberships removes at least R''s expired membership');
SELECT is((SELECT count(*)::int FROM finicom.memberships WHERE org_id = :'o' AND user_id = :'r'), 0, 'R is no longer in O');
SELECT is((SELECT count(*)::int FROM finicom.memberships WHERE org_id = :'o2' AND user_id = :'r'), 1, 'but still in O2');
SELECT results_eq(
    format($$SELECT action, actor_type, details ->> 'role' FROM audit.events WHERE org_id = %L AND target_id = %L AND action LIKE 'member.%%' ORDER BY at DESC LIMIT 1$$, :'o', :'r'),
    $$VALUES ('member.expired'::text, 'system'::text, 'read'::text)$$,
    'its event is member.expired, actor system, with the role');

-- ---------------------------------------------------------------------
-- The race: two admins setting each other's expiry at once leave one
-- admin without an expiry and one last_admin refusal.
SELECT 'dbname=' || current_database() || ' user=postgres host='
       || split_part(current_setting('unix_socket_directories'), ',', 1)
       || ' port=' || current_setting('port') AS conninfo \gset
SELECT gen_random_uuid() AS rorg, gen_random_uuid() AS p, gen_random_uuid() AS q \gset
SELECT is(ARRAY[dblink_connect('fx', :'conninfo'), dblink_connect('c1', :'conninfo'), dblink_connect('c2', :'conninfo')],
          ARRAY['OK', 'OK', 'OK'], 'the race''s three connections open');
-- Wait (at most 10 s) until c2's backend is blocked by c1's; false if c2 finished instead.
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
SELECT is(dblink_exec('fx', format($$
    BEGIN;
    INSERT INTO finicom.users (id, email, name, password_hash) VALUES
        (%1$L, 'p-' || %1$L || '@expiry-race.pgtap.test', 'P', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA'),
        (%2$L, 'q-' || %2$L || '@expiry-race.pgtap.test', 'Q', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA');
    INSERT INTO finicom.orgs (id, name) VALUES (%3$L, 'pgtap 23 expiry race');
    INSERT INTO finicom.memberships (org_id, user_id, role) VALUES (%3$L, %1$L, 'admin'), (%3$L, %2$L, 'admin');
    COMMIT$$, :'p', :'q', :'rorg')), 'COMMIT', 'race fixture: an org with admins p and q, no expiry');
SELECT (SELECT pid FROM dblink('c1', 'SELECT pg_backend_pid()') AS t(pid integer)) AS c1_pid,
       (SELECT pid FROM dblink('c2', 'SELECT pg_backend_pid()') AS t(pid integer)) AS c2_pid \gset
SELECT is(dblink_exec('c1', format($$
    BEGIN;
    SELECT finicom.context_enter('user', %1$L, %3$L, NULL, NULL);
    SET LOCAL ROLE finicom_app;
    UPDATE finicom.memberships SET expires_at = now() + interval '1 day' WHERE org_id = %3$L AND user_id = %2$L$$,
    :'p', :'q', :'rorg')), 'UPDATE 1', 'connection 1 (p) gives q an expiry, transaction open');
SELECT is(dblink_exec('c2', format($$
    SET lock_timeout = '20s';
    BEGIN;
    SELECT finicom.context_enter('user', %1$L, %2$L, NULL, NULL);
    SET LOCAL ROLE finicom_app$$, :'q', :'rorg')), 'SET', 'connection 2 (q) begins');
SELECT is(dblink_send_query('c2', format(
    $$UPDATE finicom.memberships SET expires_at = now() + interval '1 day' WHERE org_id = %L AND user_id = %L$$, :'rorg', :'p')),
    1, 'connection 2 (q) sends p''s expiry');
SELECT ok(pg_temp.c2_blocked_by_c1(:c2_pid, :c1_pid),
          'connection 2 waits for connection 1 (the org row lock) instead of counting at once');
SELECT is(dblink_exec('c1', 'COMMIT'), 'COMMIT', 'connection 1 commits');
SELECT throws_ok($$SELECT * FROM dblink_get_result('c2') AS t(status text)$$, 'F0409', 'last_admin',
                 'connection 2 is refused with last_admin');
SELECT is_empty($$SELECT * FROM dblink_get_result('c2') AS t(status text)$$, 'connection 2 has nothing more');
SELECT is(dblink_exec('c2', 'COMMIT'), 'ROLLBACK', 'connection 2 rolls back');
SELECT set_eq(
    format('SELECT user_id, has_expiry FROM dblink(%L, %L) AS t(user_id uuid, has_expiry boolean)', 'fx',
           format('SELECT user_id, expires_at IS NOT NULL FROM finicom.memberships WHERE org_id = %L', :'rorg')),
    format('VALUES (%L::uuid, false), (%L::uuid, true)', :'p', :'q'),
    'the org keeps p without an expiry; q has one');
SELECT is(dblink_exec('fx', format($$
    BEGIN;
    DELETE FROM finicom.orgs WHERE id = %L;
    DELETE FROM finicom.users WHERE id IN (%L, %L);
    COMMIT$$, :'rorg', :'p', :'q')), 'COMMIT', 'the race fixture is removed');
SELECT is(ARRAY[dblink_disconnect('c1'), dblink_disconnect('c2'), dblink_disconnect('fx')], ARRAY['OK', 'OK', 'OK'],
          'the three connections close');

SELECT * FROM finish();
ROLLBACK;
