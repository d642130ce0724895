-- 18-auth-role: finicom_auth, the auth processes' role
-- (sql/0019_auth_role.sql): a login role that owns nothing, holds no
-- privilege on any table, and may execute exactly the credential
-- functions; what each of them does for it; and that finicom_app may
-- execute none of them.
--
-- Words:
--   credential functions  auth_login_begin, auth_login_failed,
--                         auth_login_complete, auth_signup (every version),
--                         invitation_accept_new_user
--   U                     a user with a known email; N an email nobody has
-- Run by pg_prove as a superuser, in one transaction rolled back at the end.
CREATE EXTENSION IF NOT EXISTS pgtap;

BEGIN;
SELECT plan(24);

SELECT gen_random_uuid() AS u \gset
SELECT 'auth-role-' || :'u' || '@example.test' AS email, 'nobody-' || :'u' || '@example.test' AS nobody \gset
INSERT INTO finicom.users (id, email, name, password_hash)
VALUES (:'u', :'email', 'U', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA');

-- ---------------------------------------------------------------------
-- The role.
SELECT has_role('finicom_auth');
SELECT is((SELECT ARRAY[rolcanlogin, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb]
             FROM pg_roles WHERE rolname = 'finicom_auth'),
          ARRAY[true, false, false, false, false],
          'finicom_auth logs in, and is no superuser, bypasses no row-level security, creates no role or database');
SELECT is((SELECT array_agg(r.rolname::text ORDER BY 1) FROM pg_roles r
            WHERE r.rolname <> 'finicom_auth' AND pg_has_role('finicom_auth', r.oid, 'MEMBER')), NULL,
          'finicom_auth is a member of no other role (not finicom_owner, not finicom_app)');
SELECT is((SELECT array_agg(r.rolname::text ORDER BY 1) FROM pg_roles r
            WHERE r.rolname <> 'finicom_auth' AND pg_has_role(r.oid, 'finicom_auth', 'MEMBER')
              AND NOT r.rolsuper), NULL,
          'no role but a superuser has finicom_auth''s rights (finicom_app is not its member)');

-- ---------------------------------------------------------------------
-- What it may execute: exactly the credential functions (and finicom.ts,
-- for the user JSON it sends the worker).
SELECT set_eq(
    $$SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_temp\_%'
         AND n.nspname NOT LIKE 'pg\_toast%'
         AND has_schema_privilege('finicom_auth', n.oid, 'USAGE')
         AND has_function_privilege('finicom_auth', p.oid, 'EXECUTE')
         AND NOT EXISTS (SELECT FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid
                                                   AND e.deptype = 'e')$$,
    $$SELECT p.oid::regprocedure FROM pg_proc p
       WHERE p.pronamespace = 'finicom'::regnamespace
         AND p.proname IN ('auth_login_begin', 'auth_login_failed', 'auth_login_complete', 'auth_signup',
                           'invitation_accept_new_user')
      UNION ALL SELECT 'finicom.ts(timestamptz)'::regprocedure$$,
    'finicom_auth may execute the credential functions and finicom.ts, nothing else');
SELECT is((SELECT count(*)::int FROM pg_proc p WHERE p.pronamespace = 'finicom'::regnamespace
            AND p.proname IN ('auth_login_begin', 'auth_login_failed', 'auth_login_complete', 'auth_signup',
                              'invitation_accept_new_user')), 5,
          'control: there is one of each credential function');
SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p
            WHERE p.pronamespace = 'finicom'::regnamespace
              AND has_function_privilege('finicom_auth', p.oid, 'EXECUTE') AND p.proname <> 'ts'
              AND NOT (p.prosecdef AND p.proowner = 'finicom_owner'::regrole)), NULL,
          'each credential function runs as finicom_owner (SECURITY DEFINER), the only way to the data');
SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p
            WHERE p.pronamespace = 'finicom'::regnamespace
              AND has_function_privilege('finicom_auth', p.oid, 'EXECUTE') AND p.proname <> 'ts'
              AND has_function_privilege('finicom_app', p.oid, 'EXECUTE')), NULL,
          'finicom_app may execute none of them');
SELECT is(ARRAY[has_function_privilege('finicom_auth', 'finicom.begin_request(text, bytea, uuid, integer, text, text)', 'EXECUTE'),
                has_function_privilege('finicom_auth', 'finicom.user_create(text, text, text)', 'EXECUTE'),
                has_function_privilege('finicom_auth', 'finicom.session_create(uuid, bytea, integer)', 'EXECUTE'),
                has_function_privilege('finicom_auth', 'finicom.invitation_join(bytea)', 'EXECUTE'),
                has_function_privilege('finicom_auth', 'finicom.org_create(text)', 'EXECUTE')],
          ARRAY[false, false, false, false, false],
          'not begin_request, user_create, session_create, invitation_join or org_create');

-- ---------------------------------------------------------------------
-- Schemas and tables: nothing directly.
SELECT is(ARRAY[has_schema_privilege('finicom_auth', 'finicom', 'USAGE'),
                has_schema_privilege('finicom_auth', 'finicom', 'CREATE'),
                has_schema_privilege('finicom_auth', 'audit', 'USAGE'),
                has_schema_privilege('finicom_auth', 'cron', 'USAGE'),
                has_schema_privilege('finicom_auth', 'public', 'CREATE')],
          ARRAY[true, false, false, false, false],
          'finicom_auth uses schema finicom only, and creates nothing anywhere');
SELECT is((SELECT array_agg(c.oid::regclass::text || ' ' || p.priv ORDER BY 1) FROM pg_class c
             CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p (priv)
            WHERE c.relnamespace IN ('finicom'::regnamespace, 'audit'::regnamespace)
              AND (has_table_privilege('finicom_auth', c.oid, p.priv)
                   OR p.priv IN ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES')
                      AND has_any_column_privilege('finicom_auth', c.oid, p.priv))), NULL,
          'finicom_auth holds no privilege on any table, view or column of finicom and audit');
SET LOCAL ROLE finicom_auth;
SELECT throws_ok('SELECT password_hash FROM finicom.users', '42501', NULL, 'reading users directly is refused');
SELECT throws_ok('SELECT count(*) FROM finicom.sessions', '42501', NULL, 'reading sessions directly is refused');
SELECT throws_ok(format($$SELECT set_config('finicom.actor_id', %L, true)$$, :'u'), '42501', NULL,
                 'writing the request context is refused');
RESET ROLE;

-- ---------------------------------------------------------------------
-- What the functions do for it.
SET LOCAL ROLE finicom_auth;
SELECT results_eq(format('SELECT user_id, password_hash FROM finicom.auth_login_begin(%L)', upper(:'email')),
                  format($$VALUES (%L::uuid, '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA'::text)$$, :'u'),
                  'auth_login_begin: U''s id and hash, for the email in any case');
SELECT is_empty(format('SELECT * FROM finicom.auth_login_begin(%L)', :'nobody'),
                'auth_login_begin of an email nobody has: no row');
SELECT lives_ok(format($$SELECT finicom.auth_login_failed(%L, '192.0.2.7', 'req-failed')$$, :'email'),
                'auth_login_failed records a failure');
SELECT results_eq(format($$SELECT id, email FROM finicom.auth_login_complete(%L, sha256('auth-role-session'::bytea),
                             3600, NULL, NULL, '192.0.2.7', 'req-ok')$$, :'u'),
                  format('VALUES (%L::uuid, %L::text)', :'u', :'email'),
                  'auth_login_complete: a session for U, and U');
SELECT results_eq(format($$SELECT email, name FROM finicom.auth_signup(%L, 'New', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
                             sha256('auth-role-signup'::bytea), 3600, '192.0.2.7', 'req-signup')$$, 'new-' || :'email'),
                  format($$VALUES (%L::text, 'New'::text)$$, 'new-' || :'email'),
                  'auth_signup: the new account');
RESET ROLE;
SELECT results_eq(format($$SELECT event, ip, request_id FROM audit.auth_events
                             WHERE request_id IN ('req-failed', 'req-ok', 'req-signup') AND email IN (%L, %L)
                             ORDER BY request_id$$, :'email', 'new-' || :'email'),
                  $$VALUES ('login.failed'::text, '192.0.2.7'::text, 'req-failed'::text),
                           ('login.succeeded', '192.0.2.7', 'req-ok'), ('signup', '192.0.2.7', 'req-signup')$$,
                  'each is in audit.auth_events with the address and request id it was given');
SELECT results_eq($$SELECT u.email FROM finicom.sessions s JOIN finicom.users u ON u.id = s.user_id
                    WHERE s.token_hash IN (sha256('auth-role-session'::bytea), sha256('auth-role-signup'::bytea))
                    ORDER BY 1$$,
                  format('VALUES (%L::text), (%L)', :'email', 'new-' || :'email'),
                  'the two sessions exist, each for its user');
SELECT is((SELECT failures FROM finicom.login_failures WHERE email = lower(:'email')), NULL,
          'the successful login ended U''s run of failures');
SET LOCAL ROLE finicom_auth;
SELECT throws_ok(format($$SELECT * FROM finicom.auth_signup(%L, 'Dup', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
                            sha256('auth-role-dup'::bytea), 3600, NULL, NULL)$$, upper(:'email')),
                 '23505', NULL, 'auth_signup of a taken email (any case): unique_violation');
SELECT throws_ok($$SELECT * FROM finicom.auth_signup('bad@example.test', 'Bad', 'not-an-argon2-hash',
                   sha256('auth-role-bad'::bytea), 3600, NULL, NULL)$$,
                 '23514', NULL, 'auth_signup stores nothing but an Argon2id hash');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
