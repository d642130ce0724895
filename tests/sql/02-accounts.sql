-- 02-accounts: what the workers' role can and cannot see of accounts and
-- sessions, and the functions that run before the actor is known
-- (issue 3, "Tests"; sql/0002_accounts.sql, widened by sql/0003_orgs.sql).
--
-- Words: U and V are two fresh users; "acting as U" means SET LOCAL ROLE
-- finicom_app plus the request context actor_type = 'user', actor_id = U,
-- as finicom.begin_request() leaves it.  Fixtures are created as the
-- superuser and everything is rolled back at the end.
CREATE EXTENSION IF NOT EXISTS pgtap;

BEGIN;
SELECT plan(45);

SELECT gen_random_uuid() AS u, gen_random_uuid() AS v, gen_random_uuid() AS org \gset

-- Act as finicom_app with a request context; '' leaves a setting empty.
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

INSERT INTO finicom.users (id, email, name, password_hash) VALUES
    (:'u', 'Mixed.Case-' || :'u' || '@Example.test', 'U', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA'),
    (:'v', 'v-' || :'v' || '@example.test', 'V', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA');
-- Sessions of U: live (token t-U), expired (e-U), idle for 13 hours (i-U),
-- last seen 10 minutes ago (s-U) and 10 seconds ago (r-U).
INSERT INTO finicom.sessions (token_hash, user_id, last_seen_at, expires_at) VALUES
    (sha256(('t-' || :'u')::bytea), :'u', now(), now() + interval '7 days'),
    (sha256(('e-' || :'u')::bytea), :'u', now() - interval '1 hour', now() - interval '1 second'),
    (sha256(('i-' || :'u')::bytea), :'u', now() - interval '13 hours', now() + interval '6 days'),
    (sha256(('s-' || :'u')::bytea), :'u', now() - interval '10 minutes', now() + interval '7 days'),
    (sha256(('r-' || :'u')::bytea), :'u', now() - interval '10 seconds', now() + interval '7 days');

-- ---------------------------------------------------------------------
-- No context at all (nothing set in this session yet): no users.
SET LOCAL ROLE finicom_app;
SELECT is_empty('SELECT id FROM finicom.users', 'no context: finicom_app sees no user');
RESET ROLE;

-- ---------------------------------------------------------------------
-- sessions: no privilege, and no rows even with one.
SELECT table_privs_are('finicom', 'sessions', 'finicom_app', ARRAY[]::text[],
                       'finicom_app has no privilege on finicom.sessions');
SELECT pg_temp.act('user', :'u', '');
SELECT throws_ok('SELECT * FROM finicom.sessions', '42501', NULL,
                 'acting as U, reading finicom.sessions is refused');
SELECT throws_ok(format('DELETE FROM finicom.sessions WHERE user_id = %L', :'u'), '42501', NULL,
                 'acting as U, deleting from finicom.sessions is refused');
RESET ROLE;
-- Were SELECT granted by mistake, RLS (no policy for finicom_app) still hides every row.
GRANT SELECT ON finicom.sessions TO finicom_app;
SELECT pg_temp.act('user', :'u', '');
SELECT is_empty(format('SELECT id FROM finicom.sessions WHERE user_id = %L', :'u'),
                'with SELECT granted, acting as U still sees none of U''s sessions');
SELECT is_empty('SELECT id FROM finicom.sessions',
                'with SELECT granted, acting as U sees no session at all');
RESET ROLE;
REVOKE SELECT ON finicom.sessions FROM finicom_app;

-- ---------------------------------------------------------------------
-- users: the password hash is not selectable; the other columns are.
SELECT column_privs_are('finicom', 'users', 'password_hash', 'finicom_app', ARRAY[]::text[],
                        'finicom_app has no privilege on users.password_hash');
SELECT pg_temp.act('user', :'u', '');
SELECT throws_ok('SELECT password_hash FROM finicom.users', '42501', NULL,
                 'acting as U, selecting users.password_hash is refused');
SELECT throws_ok('SELECT * FROM finicom.users', '42501', NULL,
                 'acting as U, SELECT * from users is refused (it includes password_hash)');
SELECT throws_ok(format('UPDATE finicom.users SET name = %L WHERE id = %L', 'x', :'u'), '42501', NULL,
                 'acting as U, updating users directly is refused');
SELECT results_eq(
    format('SELECT id, email, name FROM finicom.users WHERE id = %L', :'u'),
    format('VALUES (%L::uuid, %L::text, %L::text)', :'u', 'Mixed.Case-' || :'u' || '@Example.test', 'U'),
    'acting as U, id, email, name and created_at of U are readable');
SELECT isnt_empty(format('SELECT created_at FROM finicom.users WHERE id = %L', :'u'),
                  'acting as U, users.created_at is readable');

-- users: a user sees themselves, not a stranger.
SELECT set_eq('SELECT id FROM finicom.users', ARRAY[:'u'::uuid],
              'acting as U with no shared org, U sees exactly itself');
SELECT is_empty(format('SELECT id FROM finicom.users WHERE id = %L', :'v'),
                'acting as U, V (no shared org) is invisible');
SELECT pg_temp.act('user', :'v', '');
SELECT set_eq('SELECT id FROM finicom.users', ARRAY[:'v'::uuid],
              'acting as V with no shared org, V sees exactly itself');

-- Empty-string context is no context.
SELECT pg_temp.act('', '', '');
SELECT is_empty('SELECT id FROM finicom.users', 'empty-string context: no user');
-- An actor id without actor_type 'user' is not a user.
SELECT pg_temp.act('', :'u', '');
SELECT is_empty('SELECT id FROM finicom.users', 'actor_id U with empty actor_type: no user');
SELECT pg_temp.act('api_key', :'u', '');
SELECT is_empty('SELECT id FROM finicom.users', 'actor_id U with actor_type api_key: no user');
RESET ROLE;

-- Once U and V share an org, they see each other (and still no one else).
INSERT INTO finicom.orgs (id, name) VALUES (:'org', 'accounts-test');
INSERT INTO finicom.memberships (org_id, user_id, role) VALUES (:'org', :'u', 'admin'), (:'org', :'v', 'read');
-- (Users are read through the memberships of the org of the request: in
-- a request about the org; outside one, each sees only itself.)
SELECT pg_temp.act('user', :'u', :'org');
SELECT set_eq('SELECT id FROM finicom.users', ARRAY[:'u'::uuid, :'v'::uuid],
              'sharing an org, in a request about it, U sees exactly U and V');
SELECT pg_temp.act('user', :'v', :'org');
SELECT set_eq('SELECT id FROM finicom.users', ARRAY[:'u'::uuid, :'v'::uuid],
              'sharing an org, in a request about it, V sees exactly U and V');
SELECT pg_temp.act('user', :'u', '');
SELECT set_eq('SELECT id FROM finicom.users', ARRAY[:'u'::uuid],
              'sharing an org, in a request about no org, U sees only U');
SELECT pg_temp.act('', '', '');
SELECT is_empty('SELECT id FROM finicom.users', 'empty-string context after sharing an org: still no user');
RESET ROLE;

-- ---------------------------------------------------------------------
-- begin_request, called as the workers call it (finicom_app).
SELECT pg_temp.act('user', :'u', :'org');
SELECT is_empty(
    $$SELECT * FROM finicom.begin_request('session', sha256('no such token'::bytea), NULL, 43200, 'rid', '127.0.0.1')$$,
    'begin_request with an unknown token hash returns no row');
SELECT is(current_setting('finicom.actor_id') || '|' || current_setting('finicom.actor_type')
          || '|' || current_setting('finicom.org_id'), '||',
          'begin_request with an unknown token clears a context left from before');
SELECT is_empty('SELECT id FROM finicom.users', 'after a refused begin_request, no user is visible');
SELECT is_empty(
    $$SELECT * FROM finicom.begin_request(NULL, sha256('no such token'::bytea), NULL, 43200, 'rid', '127.0.0.1')$$,
    'begin_request with a NULL credential returns no row');
SELECT is_empty(
    format($$SELECT * FROM finicom.begin_request(NULL, sha256(%L::bytea), NULL, 43200, 'rid', '127.0.0.1')$$, 't-' || :'u'),
    'begin_request with a NULL credential and a valid token returns no row');
SELECT is_empty(
    $$SELECT * FROM finicom.begin_request('session', NULL, NULL, 43200, 'rid', '127.0.0.1')$$,
    'begin_request with a NULL token hash returns no row');
SELECT is_empty(
    format($$SELECT * FROM finicom.begin_request('session', sha256(%L::bytea), NULL, 43200, 'rid', '127.0.0.1')$$, 'e-' || :'u'),
    'begin_request with an expired session returns no row');
SELECT is_empty(
    format($$SELECT * FROM finicom.begin_request('session', sha256(%L::bytea), NULL, 43200, 'rid', '127.0.0.1')$$, 'i-' || :'u'),
    'begin_request with a session idle longer than p_idle_seconds returns no row');

SELECT pg_temp.act('', '', '');
SELECT is(
    (SELECT actor_type || ' ' || actor_id
       FROM finicom.begin_request('session', sha256(('t-' || :'u')::bytea), NULL, 43200, 'rid', '127.0.0.1')),
    'user ' || :'u',
    'begin_request with a live session returns one row: actor_type user, actor_id U');
SELECT is(current_setting('finicom.actor_id'), :'u', 'begin_request sets finicom.actor_id to U');
SELECT is(current_setting('finicom.actor_type'), 'user', 'begin_request sets finicom.actor_type to user');
SELECT set_eq('SELECT id FROM finicom.users', ARRAY[:'u'::uuid],
              'after begin_request (no org), the policies see U as the actor, and only U');
SELECT is((SELECT count(*)::int
             FROM finicom.begin_request('session', sha256(('t-' || :'u')::bytea), NULL, 43200, 'rid', '127.0.0.1')),
          1, 'begin_request with a live session returns exactly one row');
SELECT is((SELECT org_role
             FROM finicom.begin_request('session', sha256(('t-' || :'u')::bytea), :'org', 43200, 'rid', '127.0.0.1')),
          'admin', 'begin_request with the org of the path returns U''s role there');
SELECT set_eq('SELECT id FROM finicom.users', ARRAY[:'u'::uuid, :'v'::uuid],
              'after begin_request about the org, the policies see U and V');

-- last_seen_at is written at most once a minute.
SELECT is((SELECT count(*)::int
             FROM finicom.begin_request('session', sha256(('s-' || :'u')::bytea), NULL, 43200, 'rid', '127.0.0.1')),
          1, 'a session last seen 10 minutes ago is live');
SELECT is((SELECT count(*)::int
             FROM finicom.begin_request('session', sha256(('r-' || :'u')::bytea), NULL, 43200, 'rid', '127.0.0.1')),
          1, 'a session last seen 10 seconds ago is live');
RESET ROLE;
SELECT results_eq(
    format($$SELECT last_seen_at = now() FROM finicom.sessions
              WHERE token_hash IN (sha256(%L::bytea), sha256(%L::bytea)) ORDER BY token_hash = sha256(%L::bytea)$$,
           's-' || :'u', 'r-' || :'u', 'r-' || :'u'),
    ARRAY[true, false],
    'begin_request bumps last_seen_at of a session seen 10 minutes ago, not of one seen 10 seconds ago');

-- ---------------------------------------------------------------------
-- Login lookup, as the auth processes' role (sql/0019_auth_role.sql):
-- nothing for an unknown email, case-insensitive for a known one.
SET LOCAL ROLE finicom_auth;
SELECT is_empty($$SELECT * FROM finicom.auth_login_begin('UNKNOWN@x')$$,
                'auth_login_begin of an unknown email returns no row');
SELECT results_eq(
    format('SELECT user_id FROM finicom.auth_login_begin(%L)', upper('Mixed.Case-' || :'u' || '@Example.test')),
    ARRAY[:'u'::uuid],
    'auth_login_begin finds U by its email in upper case');
SELECT results_eq(
    format('SELECT user_id FROM finicom.auth_login_begin(%L)', lower('Mixed.Case-' || :'u' || '@Example.test')),
    ARRAY[:'u'::uuid],
    'auth_login_begin finds U by its email in lower case');
RESET ROLE;

-- ---------------------------------------------------------------------
-- Emails are unique whatever their case.
SELECT throws_ok(
    format($$SELECT * FROM finicom.user_create(%L, 'Dup', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA')$$,
           lower('Mixed.Case-' || :'u' || '@Example.test')),
    '23505', NULL,
    'user_create with U''s email in another case raises unique_violation');
SET LOCAL ROLE finicom_auth;
SELECT throws_ok(
    format($$SELECT finicom.auth_signup_verify(%L, 'Dup', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', sha256(%L::bytea), 3600, '127.0.0.1', 'req-dup',
                                               sha256(%L::bytea), 'http://x/verify/dup')$$,
           upper('Mixed.Case-' || :'u' || '@Example.test'), 'dup-' || :'u', 'dup-verify-' || :'u'),
    '23505', NULL,
    'signup (auth_signup_verify, as finicom_auth) with U''s email in upper case raises unique_violation');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
